/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Identity numbers found in Chinese certificates, accepted only when their
 * check digit is right:
 * - the unified social credit code of a unit (统一社会信用代码, GB 32100),
 * - the resident identity number of a person (居民身份证号码, GB 11643),
 *   which is personal data and only ever shown masked.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define CREDIT_CODE_LEN 18
#define PERSON_ID_LEN 18

/* Whether s (exactly 18 characters) is a credit code with a valid check
 * character. */
bool credit_code_valid(const char *s);

/* Finds the first valid credit code in text (UTF-8; it may be glued to a
 * name, as in O=11370306MB2867521U淄博市...). Writes it with a NUL to out.
 * Returns whether one was found. */
bool credit_code_find(const char *text, size_t len, char out[CREDIT_CODE_LEN + 1]);

/* Whether s (exactly 18 characters) is a resident identity number with a
 * valid check character. */
bool person_id_valid(const char *s);

/* Finds the first valid resident identity number in text and writes it
 * masked, keeping the first 3 and last 4 characters: "110***********123X". */
bool person_id_find_masked(const char *text, size_t len, char out[PERSON_ID_LEN + 1]);
