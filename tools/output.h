/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* ukeyctl's terminal output: columns that line up CJK text, tables,
 * dates, and the words for PIN states, seals and roles. */
#pragma once

#include <stdint.h>
#include <stdio.h>
#include <ukey/ukey.h>

int text_width(const char *s);

/* Text that came from a token, a certificate, a seal or the audit log,
 * made safe for the terminal: control characters (C0, DEL, C1) and bidi
 * overrides become visible escapes (\x1b, \u202e), so a hostile label
 * can neither drive the terminal nor fake a line of output. --json keeps
 * the exact text. The string lives for the next 31 calls: long enough
 * for the arguments of one printf. */
const char *tx(const char *s);
void print_padded(FILE *f, const char *s, int width);
const char *pin_state_text(enum ukey_pin_state st);

/* "zh" when messages are Chinese, else "en": for names the daemon gives
 * in both languages. */
const char *ctl_language(void);
/* YYYY-MM-DD (UTC). */
void format_date(int64_t t, char *buf, size_t size);
/* "123 days left", "last day", "expired 5 days ago". */
const char *days_left_text(const ukey_cert *c, char *buf, size_t size);
/* "RSA", "EC", "SM2". */
const char *key_type_text(const char *wire);

struct table;
struct table *table_new(size_t n_columns, const char *const *headers);
/* Adds a row of n_columns strings (copied). */
void table_add_row(struct table *t, const char *const *cells);
void table_print(struct table *t, FILE *f);
void table_free(struct table *t);

const char *seal_kind_text(enum ukey_seal_kind k);
const char *seal_status_text(enum ukey_seal_status st);
