/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers shared by libukey, ukeyd, ukeyctl and the tests. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define _unused_ __attribute__((unused))
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p)
{
	free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

/* Hands ownership of *p to the caller and leaves NULL behind, so a
 * _cleanup_ attribute on the source does not free it. */
static inline void *steal_pointer(void *p)
{
	void **pp = p;
	void *r = *pp;
	*pp = NULL;
	return r;
}
#define TAKE_PTR(p) steal_pointer(&(p))

static inline int take_fd(int *fd)
{
	int r = *fd;
	*fd = -1;
	return r;
}
#define TAKE_FD(fd) take_fd(&(fd))

static inline bool streq_ptr(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

/* Lower-case hex of len bytes; NULL on allocation failure. */
char *ukey_hex_encode(const uint8_t *data, size_t len);

/* A setting's whole number: decimal digits only (no sign, no spaces, not
 * empty), within [min, max]. Returns 0, or -EINVAL leaving *ret alone. */
int ukey_parse_uint(const char *s, unsigned min, unsigned max, unsigned *ret);

/* Whether s is valid UTF-8 (no overlongs, no surrogates). */
bool ukey_utf8_valid(const char *s, size_t len);

/* Text from a token or a certificate, made safe for a log line, a
 * terminal or a table: every control character (C0, DEL, C1), every
 * bidirectional override, embedding, isolate and mark, and the line and
 * paragraph separators become visible escapes ("\n", "\t", "\r",
 * "\x1b", "\u0085", "\u202e"), and a byte that is not valid UTF-8
 * becomes "\xHH". Nothing else changes (a backslash stays one).
 * Writes at most size bytes to out, always terminated when size > 0, and
 * returns the length the whole escape needs (as snprintf does). */
size_t ukey_escape_controls(const char *s, size_t len, char *out, size_t size);

/* The same, malloc'ed; NULL on ENOMEM. */
char *ukey_escape_controls_dup(const char *s);

/* The struct that holds member ptr (a job's payload around its header). */
#define container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))
