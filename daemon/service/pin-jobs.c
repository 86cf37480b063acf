/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "pin-jobs.h"

#include <errno.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>

#include "audit.h"
#include "ca-profiles.h"
#include "refusals.h"
#include "server.h"
#include "inventory.h"
#include "job.h"
#include "log.h"
#include "module.h"
#include "request-params.h"
#include "secret.h"
#include "service.h"
#include "token-cache.h"
#include "token-memory.h"
#include "token.h"
#include "util.h"
#include "wire-names.h"

/* A job's way to the token and back to its request: the intent on disk,
 * the job on the module's worker, the outcome on disk, the reply. */
struct pin_request {
	struct pin_request *next; /* under way (svc->pin_requests), until the job is back */
	bool listed;
	struct request *req;
	struct module *module;
	struct job *job; /* until it is handed to the module */
	const char *operation;
	pin_answer_fn answer;
	enum request_status status; /* the reply, until the outcome is on disk */
	json_object *result;
	char message[160];
};

enum request_status pin_target(struct request *req, const struct token **ret_token,
			       struct module **ret_module)
{
	struct inventory *inv = req->svc->inventory;
	const struct token *t =
		token_cache_find(inventory_get_cache(inv), param_string(req->params, "serial"));

	if (!t || !t->initialized)
		return REQUEST_E_NOT_FOUND;
	*ret_module = inventory_module_of(inv, t);
	if (!*ret_module) {
		req->error_message = "the token's module is gone";
		return REQUEST_E_NOT_FOUND;
	}
	*ret_token = t;
	return REQUEST_DONE;
}

const struct ca_profile *pin_token_profile(const struct request *req, const struct token *t)
{
	return t && t->holder.ca ? t->holder.ca : ca_profiles_get(req->svc->profiles, "unknown");
}

enum request_status pin_policy_refuse(struct request *req, const struct token *t,
				      const struct ukey_secret *new_pin,
				      const struct ukey_secret *old_pin, const char *operation)
{
	const struct pin_policy *policy = &req->svc->settings.pin_policy;
	enum pin_refusal why =
		pin_policy_check(policy, new_pin, old_pin, pin_token_profile(req, t)->default_pin,
				 t->pin_min, t->pin_max);
	json_object *extra;

	if (why == PIN_ACCEPTED)
		return REQUEST_DONE;
	refusals_record(req->svc->refusals, &req->peer, req->program, t->serial, operation,
			"refused_by_policy");
	extra = json_object_new_object();
	json_object_object_add(extra, "reason", json_object_new_string(pin_refusal_name(why)));
	json_object_object_add(extra, "min_len",
			       json_object_new_int64(policy->min_length > t->pin_min
							     ? policy->min_length
							     : t->pin_min));
	json_object_object_add(extra, "max_len", json_object_new_int64((int64_t)t->pin_max));
	req->error_extra = extra;
	return REQUEST_E_PIN_POLICY;
}

static bool secret_equals(const struct ukey_secret *s, const char *text)
{
	return s && strlen(text) == s->len && CRYPTO_memcmp(s->data, text, s->len) == 0;
}

/* What a finished job teaches about the PIN being the CA's default. */
static void remember_default(struct service *svc, const struct job *j, const char *def)
{
	int known = -1, r;

	switch (j->kind) {
	case JOB_CHANGE_PIN:
		if (j->outcome == JOB_DONE)
			known = secret_equals(j->new_pin, def);
		else if (j->outcome == JOB_WRONG_PIN && secret_equals(j->pin, def))
			known = 0; /* the default was tried and is wrong */
		break;
	case JOB_UNLOCK_PIN:
		if (j->outcome == JOB_DONE)
			known = secret_equals(j->new_pin, def);
		break;
	case JOB_PROBE_DEFAULT_PIN:
		if (j->outcome == JOB_DONE)
			known = 1;
		else if (j->outcome == JOB_WRONG_PIN)
			known = 0;
		break;
	case JOB_READ_PRIVATE:
	case JOB_SELFTEST:
		/* A PIN the user gave settles it, right or wrong. */
		if (j->outcome == JOB_DONE)
			known = secret_equals(j->pin, def);
		else if (j->outcome == JOB_WRONG_PIN && secret_equals(j->pin, def))
			known = 0;
		break;
	}
	if (known >= 0 &&
	    (r = token_memory_set(svc->memory, j->serial, TOKEN_FACT_PIN_DEFAULT, known)) < 0)
		log_error("cannot save what is known of token %s's PIN: %s", j->serial,
			  strerror(-r));
}

/* The wall clock in ms: the wait is kept across restarts. */
static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* What a finished job teaches about wrong PINs: each one makes the next
 * try on the token wait longer; a right one ends the wait (an unlock
 * gives the user PIN a fresh start too). */
static void remember_failures(struct service *svc, const struct job *j)
{
	bool so = j->kind == JOB_UNLOCK_PIN;
	int r = 0;

	if (j->by_flag) /* the token answered from its flag: no PIN was tried */
		return;
	if (j->outcome == JOB_WRONG_PIN || j->outcome == JOB_PIN_LOCKED)
		r = token_memory_pin_failed(svc->memory, j->serial, so, now_ms());
	else if (j->outcome == JOB_DONE)
		r = token_memory_pin_succeeded(svc->memory, j->serial, so);
	if (r >= 0 && so && j->outcome == JOB_DONE)
		r = token_memory_pin_succeeded(svc->memory, j->serial, false);
	if (r < 0)
		log_error("cannot save token %s's wrong PINs: %s", j->serial, strerror(-r));
}

static const enum request_status outcome_status[] = {
	[JOB_DONE] = REQUEST_DONE,
	[JOB_WRONG_PIN] = REQUEST_E_PIN_INCORRECT,
	[JOB_PIN_LOCKED] = REQUEST_E_PIN_LOCKED,
	[JOB_GUARD_REFUSED] = REQUEST_E_LOCKOUT_GUARD,
	[JOB_PIN_REFUSED] = REQUEST_E_PIN_POLICY,
	[JOB_TOKEN_REMOVED] = REQUEST_E_TOKEN_REMOVED,
	[JOB_FAILED] = REQUEST_E_TOKEN,
};

/* The token is free for the next PIN operation. */
static void unlist(struct service *svc, struct pin_request *pr)
{
	struct pin_request **pp = &svc->pin_requests;

	if (!pr->listed)
		return;
	while (*pp != pr)
		pp = &(*pp)->next;
	*pp = pr->next;
	pr->listed = false;
}

static const struct pin_request *under_way(const struct service *svc, const char *serial)
{
	for (const struct pin_request *pr = svc->pin_requests; pr; pr = pr->next)
		if (pr->job && strcmp(pr->job->serial, serial) == 0)
			return pr;
	return NULL;
}

static void pin_request_free(void *userdata)
{
	struct pin_request *pr = userdata;

	if (pr->req)
		unlist(pr->req->svc, pr);
	request_free(pr->req);
	json_object_put(pr->result);
	free(pr);
}

static int audit_pin(struct pin_request *pr, const char *serial, const char *result,
		     audit_written_fn written)
{
	struct request *req = pr->req;
	struct audit_entry e = {&req->peer, req->program, serial, pr->operation, result, 1};

	return audit_write(req->svc->audit, &e, written, pr);
}

/* The outcome is on disk (or could not be): now the reply. */
static void outcome_written(int r, void *userdata)
{
	struct pin_request *pr = userdata;

	request_complete(TAKE_PTR(pr->req), pr->status, TAKE_PTR(pr->result));
	pin_request_free(pr);
}

static void pin_job_finished(struct job *j)
{
	struct pin_request *pr = j->userdata;
	struct request *req = pr->req;
	struct service *svc = req->svc;
	const struct token *t = token_cache_find(inventory_get_cache(svc->inventory), j->serial);

	if (j->outcome == JOB_FAILED)
		log_warning("token %s: %s failed: code 0x%lx", j->serial, pr->operation, j->rv);
	unlist(svc, pr);
	remember_default(svc, j, pin_token_profile(req, t)->default_pin);
	remember_failures(svc, j);
	/* The cache first, so the client's next query sees the new state. */
	if (j->scan)
		inventory_apply_scan(svc->inventory, pr->module, TAKE_PTR(j->scan));
	pr->status = pr->answer(req, j, &pr->result);
	/* The job (and its PINs) goes now; the request waits for the outcome
	 * to be on disk, so a reply always has its audit entry. */
	j->free_userdata = NULL;
	if (audit_pin(pr, j->serial,
		      j->outcome == JOB_DONE ? "done"
					     : request_status_wire_code(outcome_status[j->outcome]),
		      outcome_written) < 0)
		outcome_written(-ENOMEM, pr);
	job_free(j);
}

/* The intent is on disk: the token may be touched. If it is not, nothing
 * is tried, and the caller is told why. */
static void intent_written(int r, void *userdata)
{
	struct pin_request *pr = userdata;
	struct request *req = pr->req;
	struct job *j = TAKE_PTR(pr->job);

	if (r >= 0 && client_is_connected(req->client)) {
		pr->job = j; /* still under way, for under_way() */
		module_submit_job(pr->module, j);
		return;
	}
	unlist(req->svc, pr);
	if (r >= 0) {
		/* Gone before its turn: nothing is spent for a caller who left. */
		if (audit_pin(pr, j->serial, "cancelled", NULL) < 0)
			log_error("out of memory: the audit log misses a cancellation");
	} else {
		if (r != -ECANCELED)
			log_error("token %s: %s refused: the audit log cannot be written (%s)",
				  j->serial, pr->operation, strerror(-r));
		snprintf(pr->message, sizeof(pr->message),
			 "the audit log cannot be written (%s): PIN operations are refused until "
			 "it can be",
			 strerror(-r));
		req->error_message = pr->message;
		req->error_extra = json_object_new_object();
		if (req->error_extra)
			json_object_object_add(req->error_extra, "reason",
					       json_object_new_string(strerror(-r)));
	}
	request_complete(TAKE_PTR(pr->req), REQUEST_E_AUDIT, NULL);
	job_free(j); /* and pr with it */
}

enum request_status pin_job_submit(struct request *req, struct module *m, struct job *j,
				   const char *operation, pin_answer_fn answer)
{
	struct service *svc = req->svc;
	struct pin_request *pr;
	unsigned wait =
		token_memory_pin_wait(svc->memory, j->serial, j->kind == JOB_UNLOCK_PIN, now_ms());

	/* One PIN operation per token at a time, and none while the delay
	 * after a wrong PIN runs: a user cannot try PINs faster in parallel. */
	if (wait == 0 && under_way(svc, j->serial)) {
		wait = 1;
		req->error_message = "another PIN operation on this token is under way: try again";
	}
	if (wait > 0) {
		refusals_record(svc->refusals, &req->peer, req->program, j->serial, operation,
				"retry_later");
		req->error_extra = json_object_new_object();
		if (req->error_extra)
			json_object_object_add(req->error_extra, "retry_after",
					       json_object_new_int64(wait));
		job_free(j);
		return REQUEST_E_RETRY_LATER;
	}
	pr = calloc(1, sizeof(*pr));
	if (!pr) {
		job_free(j);
		return REQUEST_E_NO_MEMORY;
	}
	*pr = (struct pin_request){
		.req = req, .module = m, .job = j, .operation = operation, .answer = answer};
	/* The intent goes to disk before the token is touched: whatever
	 * happens next, a PIN operation is never missing from the log. */
	if (audit_pin(pr, j->serial, "started", intent_written) < 0) {
		free(pr);
		job_free(j);
		return REQUEST_E_NO_MEMORY;
	}
	j->finish = pin_job_finished;
	j->userdata = pr;
	j->free_userdata = pin_request_free;
	pr->next = svc->pin_requests;
	svc->pin_requests = pr;
	pr->listed = true;
	request_keep(req);
	return REQUEST_LATER;
}

json_object *pin_states_json(const struct job *j)
{
	json_object *pin = json_object_new_object();

	json_object_object_add(pin, "user",
			       json_object_new_string(ukey_wire_pin_state_name(j->user_pin)));
	json_object_object_add(pin, "so",
			       json_object_new_string(ukey_wire_pin_state_name(j->so_pin)));
	return pin;
}

enum request_status pin_answer_states(struct request *req, struct job *j, json_object **ret_result)
{
	json_object *pin = pin_states_json(j), *o = json_object_new_object();

	/* A probe that tried tells the default PIN outright. */
	if (j->kind == JOB_PROBE_DEFAULT_PIN && j->outcome != JOB_GUARD_REFUSED &&
	    j->outcome != JOB_PIN_LOCKED)
		json_object_object_add(pin, "default",
				       json_object_new_boolean(j->outcome == JOB_DONE));
	json_object_object_add(o, "pin", pin);
	if (j->outcome == JOB_DONE) {
		*ret_result = o;
		return REQUEST_DONE;
	}
	if (j->outcome == JOB_FAILED)
		json_object_object_add(o, "ck_rv", json_object_new_int64((int64_t)j->rv));
	/* Where the token counts them (SKF), the tries left of the PIN tried. */
	if (j->tries_left >= 0)
		json_object_object_add(o, "tries_left", json_object_new_int(j->tries_left));
	if (j->by_flag && j->outcome == JOB_WRONG_PIN)
		req->error_message = "the PIN is not the default (the token says so; no try spent)";
	if (j->outcome == JOB_PIN_REFUSED) {
		req->error_message = "the token does not take a PIN of this length or these "
				     "characters (no try spent)";
		json_object_object_add(o, "reason", json_object_new_string("token_refused"));
	}
	req->error_extra = o;
	return outcome_status[j->outcome];
}
