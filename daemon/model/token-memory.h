/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What ukeyd remembers of each token, by serial, across restarts (a state
 * file in the state dir). PKCS#11 cannot tell these, so ukeyd keeps what
 * it saw:
 *   "pin_default": the user PIN is the CA's default (a PIN given for an
 *                  operation, a change or unlock ukeyd made, a probe);
 *   "primary":     the token carried a seal once (a primary that shows no
 *                  seal later has lost it, it is no secondary);
 *   "user_pin_failures", "so_pin_failures": wrong PINs in a row, and
 *   "user_pin_retry_at_ms", "so_pin_retry_at_ms": the Unix time, in ms,
 *                  before which no PIN is tried on the token again (a
 *                  growing delay).
 * Never a PIN.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#define TOKEN_FACT_PIN_DEFAULT "pin_default"
#define TOKEN_FACT_PRIMARY "primary"

/* The longest wait after wrong PINs: 1 s after the first, then twice as
 * long after each, up to this. */
#define TOKEN_PIN_DELAY_MAX 3600

struct token_memory;

/* Reads the file. A file that is not one JSON object is set aside (as
 * path.bad) and reported with -EBADMSG; an entry of the wrong shape (a
 * token that is not an object, a fact of the wrong type) is set aside
 * alone, with a warning. Either way the memory returned is usable. */
int token_memory_load(const char *path, struct token_memory **ret);

/* The memory of a parsed document (taken), its bad entries set aside
 * (into path.bad unless path is NULL) with a warning each. For the fuzz
 * target too. Returns 0 or -ENOMEM. */
int token_memory_adopt(const char *path, json_object *doc, struct token_memory **ret);

void token_memory_free(struct token_memory *m);

/* 1 (true), 0 (false), -1 (unknown). */
int token_memory_get(const struct token_memory *m, const char *serial, const char *fact);
/* Records and saves atomically, unless it is already so. Returns 0 or a
 * negative errno. */
int token_memory_set(struct token_memory *m, const char *serial, const char *fact, bool value);

/* Seconds (rounded up) a PIN (the SO PIN when so) must still wait before
 * it is tried on the token, at now_ms (Unix time in ms); 0 when it need
 * not. A clock set back never makes the wait longer than the delay. */
unsigned token_memory_pin_wait(const struct token_memory *m, const char *serial, bool so,
			       int64_t now_ms);
/* A wrong PIN: the next try waits longer. Saved; 0 or a negative errno. */
int token_memory_pin_failed(struct token_memory *m, const char *serial, bool so, int64_t now_ms);
/* A right PIN: no wait any more. Saved; 0 or a negative errno. */
int token_memory_pin_succeeded(struct token_memory *m, const char *serial, bool so);
