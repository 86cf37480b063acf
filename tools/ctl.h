/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What every ukeyctl command shares: its words (gettext), exit codes,
 * options, and the way to ukeyd with its errors worded for the user. */
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
	EXIT_BUSY = 16,	      /* ukeyd is overloaded, or asks to wait: try again later */
};

struct ctl {
	const char *socket; /* NULL: $UKEY_SOCKET, else the default */
	bool json;
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

/* Lists; while ukeyd is still reading the tokens after it started, asks
 * again for up to 3 s, then says on stderr that the list is partial. */
enum ukey_error ctl_list_settled(ukey_client *client, ukey_token_list **ret_list);

/* Connects and lists (settled); prints why not and returns an exit code
 * on failure. */
int ctl_list_tokens(struct ctl *ctl, ukey_token_list **ret_list);

/* Connects to ukeyd; prints why not and returns an exit code on failure. */
int ctl_connect(struct ctl *ctl, ukey_client **ret_client);
/* Prints a libukey error and maps it to an exit code. */
int ctl_fail(enum ukey_error err, const char *what);
/* The same after a request of client's, with what ukeyd added: the tries
 * left where the token counts them, how long to wait before the next PIN
 * try, why the audit log cannot be written. */
int ctl_fail_request(ukey_client *client, enum ukey_error err, const char *what);

/* The serial to act on: the given one, else the only initialized token
 * plugged in. Prints why not and returns an exit code on failure. */
int ctl_pick_serial(ukey_client *client, const char *given, ukey_token **ret_token);
