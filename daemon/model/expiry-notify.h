/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Certificate expiry notifications, certmonger style: when a certificate
 * on a plugged token crosses 30, 7, 3, 1 or 0 days left, one notice, once
 * per certificate and threshold, remembered across restarts in a state
 * file written atomically. The clock is a parameter, so tests inject it.
 *
 * When several thresholds were crossed unseen (the daemon was stopped, or
 * the token unplugged), only the most urgent one is announced and the
 * others are recorded as passed: one warning that says "3 days left"
 * serves better than three that say 30, 7 and 3.
 */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

struct token;
struct token_cert;
struct token_cache;

extern const int expiry_thresholds[5]; /* 30, 7, 3, 1, 0 days left */

struct expiry_notice {
	const struct token *token;
	const struct token_cert *cert;
	int threshold;	   /* days: 30, 7, 3, 1 or 0 */
	int64_t days_left; /* the actual count, at most threshold */
};

struct expiry_state;

/* Reads the state file (a missing one is an empty state). A corrupt file
 * is reported with -EBADMSG and an empty state is returned all the same,
 * so the daemon starts. */
int expiry_state_load(const char *path, struct expiry_state **ret_state);

/* The state of a parsed document (borrowed), saved to path: the load
 * without the file (the fuzz target uses it). Entries of the wrong shape
 * are dropped (a notice may then come once more); returns how many, or
 * -ENOMEM. */
int expiry_state_from_json(const char *path, json_object *doc, struct expiry_state **ret_state);
void expiry_state_free(struct expiry_state *s);

/* Writes the state atomically (temporary file, fsync, rename), dropping
 * certificates that expired more than a year before now and are not in
 * the model any more. */
int expiry_state_save(struct expiry_state *s, const struct token_cache *m, int64_t now);

typedef void (*expiry_notice_fn)(const struct expiry_notice *n, void *userdata);

/* Calls fn for each certificate in the model that has crossed a threshold
 * not yet notified, and records it. Returns how many (the state must be
 * saved when that is more than 0), or -ENOMEM. */
int expiry_collect(struct expiry_state *s, const struct token_cache *m, int64_t now,
		   expiry_notice_fn fn, void *userdata);

/* When the next threshold will be crossed by a certificate of the model,
 * or INT64_MAX when none will. */
int64_t expiry_next_crossing(const struct expiry_state *s, const struct token_cache *m,
			     int64_t now);
