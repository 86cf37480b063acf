/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Text from tokens and certificates, made into UTF-8 C strings. */
#pragma once

#include <stddef.h>

/*
 * Bytes that should be UTF-8 but may not be. Chinese vendors' middleware
 * and CAs often write GB18030 (GBK) where UTF-8 belongs (token labels,
 * IA5String or PrintableString certificate fields), so text that is not
 * valid UTF-8 is converted from GB18030, and bytes that fit neither become
 * U+FFFD. An embedded NUL ends the text. Returns a malloc'ed string, or
 * NULL on ENOMEM.
 */
char *text_decode(const void *data, size_t len);

/* A PKCS#11 text field: blank-padded, not terminated. Trailing blanks and
 * NULs are trimmed, then text_decode(). A field filled to its last byte
 * whose end cuts a UTF-8 character short (a writer that counted bytes) is
 * read as the UTF-8 it is, without the broken character. */
char *p11_text_decode(const unsigned char *field, size_t size);
