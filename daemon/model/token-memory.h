/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What ukeyd remembers of each token, by serial, across restarts (a state
 * file in the state dir). PKCS#11 cannot tell these, so ukeyd keeps what
 * it saw:
 *   "pin_default": the user PIN is the CA's default (a PIN given for an
 *                  operation, a change or unlock ukeyd made, a probe);
 *   "primary":     the token carried a seal once (a primary that shows no
 *                  seal later has lost it, it is no secondary).
 * Never a PIN, only true or false.
 */
#pragma once

#include <stdbool.h>

#define TOKEN_FACT_PIN_DEFAULT "pin_default"
#define TOKEN_FACT_PRIMARY "primary"

struct token_memory;

/* A corrupt file is reported with -EBADMSG; the memory is then empty but
 * usable. */
int token_memory_load(const char *path, struct token_memory **ret);
void token_memory_free(struct token_memory *m);

/* 1 (true), 0 (false), -1 (unknown). */
int token_memory_get(const struct token_memory *m, const char *serial, const char *fact);
/* Records and saves atomically, unless it is already so. Returns 0 or a
 * negative errno. */
int token_memory_set(struct token_memory *m, const char *serial, const char *fact, bool value);
