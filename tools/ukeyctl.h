/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What ukeyctl's command files share: options, exit codes, output. */
#pragma once

#include <libintl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <ukey/ukey.h>

#define _(s) gettext(s)
#define N_(s) (s)
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Exit codes, the same for every command (ukeyctl --help, ukeyctl(1)). */
enum {
	EXIT_OK = 0,
	EXIT_PROBLEMS = 1,    /* the command worked and found problems */
	EXIT_USAGE = 2,	      /* bad command line */
	EXIT_UNREACHABLE = 3, /* ukeyd is not running or not reachable */
	EXIT_NOT_FOUND = 4,   /* no plugged token has that serial */
	EXIT_ERROR = 5,	      /* any other failure */
	EXIT_WRONG_PIN = 10,  /* the PIN was wrong: one try spent */
	EXIT_PIN_LOCKED = 11, /* the PIN is locked */
	EXIT_POLICY = 12,     /* the new PIN is refused by the PIN policy */
	EXIT_GUARD = 13,      /* refused by the lockout guard: nothing was tried */
	EXIT_PERMISSION = 14, /* permission denied */
	EXIT_REMOVED = 15,    /* the token was removed */
};

struct ctl {
	const char *socket; /* NULL: $UKEY_SOCKET, else the default */
	bool json;
};

struct ctl_command {
	const char *name;
	const char *args;    /* for the usage line */
	const char *summary; /* N_() marked */
	int (*run)(struct ctl *ctl, int argc, char **argv);
};

/* Parses a command's arguments, where the global --socket and --json may
 * stand too (ukeyctl status SERIAL --json). Returns the index of the first
 * operand in the permuted argv, or -1 on a bad option. */
int ctl_parse_options(struct ctl *ctl, int argc, char **argv);

/* The same, with the command's own options: handle gets each of them
 * (its val and argument) and returns a negative number to reject it. */
typedef int (*ctl_option_fn)(int c, const char *arg, void *userdata);
struct option;
int ctl_parse_options_ext(struct ctl *ctl, int argc, char **argv, const struct option *extra,
			  ctl_option_fn handle, void *userdata);

/* Connects and lists; prints why not and returns an exit code on failure. */
int ctl_list_tokens(struct ctl *ctl, ukey_token_list **ret_list);

/* Connects to ukeyd; prints why not and returns an exit code on failure. */
int ctl_connect(struct ctl *ctl, ukey_client **ret_client);
/* Prints a libukey error and maps it to an exit code. */
int ctl_fail(enum ukey_error err, const char *what);

/* cmd-tokens.c */
int cmd_list(struct ctl *ctl, int argc, char **argv);
int cmd_status(struct ctl *ctl, int argc, char **argv);

/* cmd-pin.c, cmd-audit.c */
int cmd_pin(struct ctl *ctl, int argc, char **argv);
int cmd_audit(struct ctl *ctl, int argc, char **argv);

/* The serial to act on: the given one, else the only initialized token
 * plugged in. Prints why not and returns an exit code on failure. */
int ctl_pick_serial(ukey_client *client, const char *given, ukey_token **ret_token);

/* cmd-watch.c */
int cmd_watch(struct ctl *ctl, int argc, char **argv);

/* cmd-check.c */
int cmd_check(struct ctl *ctl, int argc, char **argv);
int cmd_which_token(struct ctl *ctl, int argc, char **argv);

/* cmd-seal.c, cmd-holders.c */
int cmd_seal(struct ctl *ctl, int argc, char **argv);
int cmd_holders(struct ctl *ctl, int argc, char **argv);
const char *seal_kind_text(enum ukey_seal_kind k);
const char *seal_status_text(enum ukey_seal_status st);
const char *role_text(const ukey_token *t);

/* cmd-expiry.c */
int cmd_expiry(struct ctl *ctl, int argc, char **argv);

/* output.c: terminal output that lines up CJK text. */
int text_width(const char *s);
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
