/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * SKF name lists (SKF_EnumDev, SKF_EnumApplication, SKF_EnumContainer,
 * SKF_EnumFiles) as a library returned them: untrusted bytes with a
 * length. Pure C, no dependencies.
 *
 * By the standard a list is NUL-terminated names followed by one more NUL
 * ("a\0bb\0\0"), and an empty list is a single NUL. What libraries really
 * return, and what this parser does with it:
 *  - Nothing is read at or past len, whatever the bytes say.
 *  - The list ends at the first empty name (two NULs in a row) or at len.
 *    Bytes after the end are ignored: some libraries return their
 *    buffer's size rather than the list's.
 *  - A list without the final extra NUL ("a\0bb\0") is accepted: every
 *    name in it is whole, and libraries differ on whether the size counts
 *    that NUL. A last name without its own NUL ("a\0bb") is refused: it
 *    may have been cut, and a cut name would be used to open something.
 *  - len 0 and a single NUL are both an empty list.
 *  - Names keep their exact bytes, valid UTF-8 or not (Windows-era tools
 *    wrote GBK): they are passed back to SKF calls as they came, and only
 *    made into display text elsewhere (text-decode.h).
 *  - Duplicates are kept; which one an SKF call opens is the library's
 *    business.
 */
#pragma once

#include <stddef.h>

/* More names than this in one list is a broken library, not a token. */
#define SKF_NAMES_MAX 256
/* Longest name, in bytes without its NUL. The standard's own limits are
 * smaller (32 for files, 64 for containers); vendors exceed them. */
#define SKF_NAME_MAX 256

/*
 * Parses the list in buf[0..len). On success *ret_names is a malloc'ed
 * array of *ret_n malloc'ed NUL-terminated copies, followed by a NULL
 * (so it is never NULL itself, even for an empty list), and 0 is
 * returned. On failure the out-parameters are untouched and the return
 * is -EINVAL (buf NULL with len > 0, or an out-parameter NULL), -EBADMSG
 * (the last name is not terminated within len), -E2BIG (more than
 * SKF_NAMES_MAX names), -ENAMETOOLONG (a name longer than SKF_NAME_MAX)
 * or -ENOMEM.
 */
int skf_names_parse(const char *buf, size_t len, char ***ret_names, size_t *ret_n);

/* Frees what skf_names_parse() returned; names may be NULL. */
void skf_names_free(char **names, size_t n);
