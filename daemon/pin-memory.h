/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What ukeyd knows of each token's PIN being the CA's default (123456):
 * PKCS#11 cannot say, so ukeyd remembers what it saw (a PIN the user gave,
 * a change or an unlock it made) per token serial, in the state dir.
 * Never a PIN, only true or false.
 */
#pragma once

#include <stdbool.h>

struct pin_memory;

/* A corrupt file is reported with -EBADMSG; the memory is then empty but
 * usable. */
int pin_memory_load(const char *path, struct pin_memory **ret);
void pin_memory_free(struct pin_memory *m);

/* 1 (the default), 0 (not), -1 (unknown). */
int pin_memory_get(const struct pin_memory *m, const char *serial);
/* Records and saves atomically. Returns 0 or a negative errno. */
int pin_memory_set(struct pin_memory *m, const char *serial, bool is_default);
