/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What every PIN request has in common, whichever method it came by: its
 * target token and module (checked on the loop, nothing slow), the PIN
 * policy for a new PIN, and a job's way back: the audit entry, what the
 * outcome teaches about the default PIN, the fresh scan applied to the
 * cache, and only then the reply, worded by the method's own answer
 * function.
 */
#pragma once

#include <json-c/json.h>

#include "request.h"

struct ca_profile;
struct job;
struct module;
struct token;
struct ukey_secret;

/* The initialized token the request's "serial" names, and its module. */
enum request_status pin_target(struct request *req, const struct token **ret_token,
			       struct module **ret_module);

/* The CA profile of a token's certificates (the default PIN, ...). */
const struct ca_profile *pin_token_profile(const struct request *req, const struct token *t);

/* Checks a new PIN before any token is touched; a refusal is audited and
 * carries reason, min_len and max_len. old_pin may be NULL. */
enum request_status pin_policy_refuse(struct request *req, const struct token *t,
				      const struct ukey_secret *new_pin,
				      const struct ukey_secret *old_pin, const char *operation);

/* Words a finished job's reply: a status and, for REQUEST_DONE, a result.
 * Runs after the cache holds the token as the job left it. */
typedef enum request_status (*pin_answer_fn)(struct request *req, struct job *j,
					     json_object **ret_result);

/* Hands the job (taken) to the module and keeps the request until it is
 * back. operation names it in the audit log and the journal. */
enum request_status pin_job_submit(struct request *req, struct module *m, struct job *j,
				   const char *operation, pin_answer_fn answer);

/* The common answer: {"pin":{"user","so"}} or the outcome's error with
 * "pin" (and "ck_rv" when the token failed). */
enum request_status pin_answer_states(struct request *req, struct job *j, json_object **ret_result);

/* The fresh PIN states of a finished job, {"user","so"}. */
json_object *pin_states_json(const struct job *j);
