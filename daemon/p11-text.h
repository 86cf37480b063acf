/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stddef.h>

/*
 * Turns a PKCS#11 text field into a UTF-8 C string.
 *
 * CK_TOKEN_INFO fields are blank-padded and not terminated, and labels
 * are CK_UTF8CHAR in principle. Chinese vendors' middleware often writes
 * GB18030 (GBK) instead, so text that is not valid UTF-8 is converted
 * from GB18030, and bytes that fit neither become U+FFFD. Trailing blanks
 * and NULs are trimmed. Returns a malloc'ed string, or NULL on ENOMEM.
 */
char *p11_text_decode(const unsigned char *field, size_t size);
