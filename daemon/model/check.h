/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * "Ready to bid?": the verdict for one token and the items behind it, each
 * with a stable code (docs/protocol.md), a severity and the parameters a
 * client needs to word it in the user's language. Pure: a token, a clock
 * and the caller's bid facts in, JSON out.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "ukey/ukey.h"

struct token;

/* A recipient of an encrypted bid (CMS), as hex; a NULL field is absent. */
struct bid_recipient {
	const char *issuer_der, *serial, *skid;
};

/* The --full test's outcome for one key: 1 passed, 0 failed, -1 not run. */
struct selftest_result {
	int sign;
	int decrypt;
};

struct check_options {
	int64_t now;
	int64_t opening; /* the bid opening (开标) time, 0 when not given */
	bool bid_given;
	const struct bid_recipient *recipients;
	size_t n_recipients;
	const struct selftest_result *selftest; /* NULL when --full was not asked */
};

/* The certificate a bid uses for signing (or encrypting): one whose key
 * pair is on the token, the newest; NULL when there is none. */
const struct token_cert *check_current_cert(const struct token *t, bool for_signing);

/* {"serial","label","verdict","items":[{"code","severity","params":{..}}]},
 * with the verdict also in *ret_verdict. */
json_object *check_token(const struct token *t, const struct check_options *o,
			 enum ukey_verdict *ret_verdict);

/* The entry for a serial that is not plugged in. */
json_object *check_not_found(const char *serial, enum ukey_verdict *ret_verdict);

/* The worse of two verdicts (not ready > ready with warnings > ready). */
enum ukey_verdict check_worse_verdict(enum ukey_verdict a, enum ukey_verdict b);
