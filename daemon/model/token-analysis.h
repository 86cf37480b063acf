/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a token's raw objects mean, whichever backend read them: every
 * certificate analyzed (paired with the token's keys), the holder named,
 * the seals found by content. Runs on the worker thread right after a
 * read, so the event loop only ever takes finished records.
 */
#pragma once

struct ca_profiles;
struct token;

/* Also puts certificates and objects in a fixed order (by ID or label,
 * then content). Returns 0 or -ENOMEM. */
int token_analyze(struct token *t, const struct ca_profiles *profiles);

/* Only the seals among the data objects (private objects read with a
 * PIN). Returns 0 or -ENOMEM. */
int token_find_seals(struct token *t);
