/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What each request method does. Answers come from the cached model;
 * only "refresh" makes the workers touch tokens. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <grp.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "audit.h"
#include "check.h"
#include "log.h"
#include "job.h"
#include "p11-backend.h"
#include "scan-result.h"
#include "worker.h"
#include "token-memory.h"
#include "pin-policy.h"
#include "secret.h"
#include "proto.h"
#include "server.h"
#include "ukeyd.h"
#include "util.h"
#include "wire-names.h"

typedef void (*method_fn)(struct ukeyd *d, struct client *c, json_object *id, json_object *params);

static void reply_no_memory(struct client *c, json_object *id)
{
	client_reply_error(c, id, UKEY_WIRE_INTERNAL, "out of memory");
}

static const char *param_string(json_object *params, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(params, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

static void method_list(struct ukeyd *d, struct client *c, json_object *id, json_object *params)
{
	json_object *tokens = token_cache_list_json(&d->model, time(NULL)), *result;

	result = tokens ? json_object_new_object() : NULL;
	if (!result) {
		reply_no_memory(c, id);
		return;
	}
	json_object_object_add(result, "tokens", json_object_get(tokens));
	client_reply(c, id, result);
}

static void method_get_private(struct ukeyd *d, struct client *c, json_object *id,
			       json_object *params);

static void method_get(struct ukeyd *d, struct client *c, json_object *id, json_object *params)
{
	json_object *serial, *tokens, *result;
	const char *want;

	/* With the caller's PIN, private objects are read for this reply. */
	if (json_object_object_get_ex(params, "pin", NULL)) {
		method_get_private(d, c, id, params);
		return;
	}
	if (!json_object_object_get_ex(params, "serial", &serial) ||
	    !json_object_is_type(serial, json_type_string)) {
		client_reply_error(c, id, UKEY_WIRE_INVALID_REQUEST,
				   "get needs a string \"serial\"");
		return;
	}
	want = json_object_get_string(serial);
	tokens = token_cache_list_json(&d->model, time(NULL));
	if (!tokens) {
		reply_no_memory(c, id);
		return;
	}
	/* The cached array follows the model's order, so index i is token i. */
	for (size_t i = 0; i < d->model.n_tokens; i++) {
		if (!*want || !streq_ptr(d->model.tokens[i]->serial, want))
			continue;
		result = json_object_new_object();
		if (!result) {
			reply_no_memory(c, id);
			return;
		}
		json_object_object_add(result, "token",
				       json_object_get(json_object_array_get_idx(tokens, i)));
		client_reply(c, id, result);
		return;
	}
	client_reply_error(c, id, UKEY_WIRE_NOT_FOUND, "no plugged token has that serial");
}

/* A seal's picture, exactly as stored, base64 (it never travels in a
 * listing: pictures are large). */
static void method_seal_picture(struct ukeyd *d, struct client *c, json_object *id,
				json_object *params)
{
	const char *serial = param_string(params, "serial");
	const struct token *t = serial ? token_cache_find(&d->model, serial) : NULL;
	json_object *index, *result;
	const struct seal_info *seal = NULL;
	unsigned char *b64;
	int64_t want;

	if (!serial || !json_object_object_get_ex(params, "index", &index) ||
	    !json_object_is_type(index, json_type_int)) {
		client_reply_error(c, id, UKEY_WIRE_INVALID_REQUEST,
				   "seal_picture needs \"serial\" and an integer \"index\"");
		return;
	}
	want = json_object_get_int64(index);
	for (size_t i = 0; t && i < t->n_objects && !seal; i++)
		if (t->objects[i].seal && want-- == 0)
			seal = t->objects[i].seal;
	if (!seal || seal->layout == 0) {
		client_reply_error(c, id, UKEY_WIRE_NOT_FOUND,
				   "no such seal, or it has no picture");
		return;
	}
	b64 = malloc(4 * ((seal->picture_len + 2) / 3) + 1);
	result = b64 ? json_object_new_object() : NULL;
	if (!result) {
		free(b64);
		reply_no_memory(c, id);
		return;
	}
	EVP_EncodeBlock(b64, seal->picture, (int)seal->picture_len);
	json_object_object_add(result, "type", json_object_new_string(seal->picture_type));
	json_object_object_add(result, "data", json_object_new_string((char *)b64));
	free(b64);
	client_reply(c, id, result);
}

static void method_subscribe(struct ukeyd *d, struct client *c, json_object *id,
			     json_object *params)
{
	client_subscribe(c);
	client_reply(c, id, NULL);
}

static void method_refresh(struct ukeyd *d, struct client *c, json_object *id, json_object *params)
{
	/* Reached only once the scans asked for by this request completed. */
	client_reply(c, id, NULL);
}

/* A PIN job's way back to its client. */
struct pin_request {
	struct client *client;
	json_object *id;
	json_object *params; /* a full check's own parameters, else NULL */
	struct ucred peer;
	char program[32];
	size_t module;
	const char *operation;
};

static void audit(struct ukeyd *d, const struct ucred *peer, const char *program,
		  const char *serial, const char *operation, const char *result)
{
	int r = audit_append(d->audit_path, peer, program, serial, operation, result);

	if (r < 0)
		log_error("cannot write the audit log %s: %s", d->audit_path, strerror(-r));
}

/* Root, or a member of the configured admin group (from the peer's
 * credentials at connect time). */
static bool peer_is_admin(struct ukeyd *d, struct client *c)
{
	char buf[4096];
	struct group grp, *g = NULL;

	if (client_get_peer(c)->uid == 0)
		return true;
	if (getgrnam_r(d->cfg->admin_group, &grp, buf, sizeof(buf), &g) != 0 || !g)
		return false;
	return client_has_group(c, g->gr_gid);
}

static bool refuse_unless_admin(struct ukeyd *d, struct client *c, json_object *id,
				const char *serial, const char *operation)
{
	if (peer_is_admin(d, c))
		return false;
	audit(d, client_get_peer(c), client_get_program(c), serial, operation, "permission_denied");
	client_reply_error(c, id, UKEY_WIRE_PERMISSION_DENIED,
			   "only root or members of the admin group may do this");
	return true;
}

static struct ukey_secret *param_secret(json_object *params, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(params, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return ukey_secret_new(json_object_get_string(v), (size_t)json_object_get_string_len(v));
}

static const struct ca_profile *token_profile(struct ukeyd *d, const struct token *t)
{
	return t->holder.ca ? t->holder.ca : ca_profiles_get(&d->profiles, "unknown");
}

static bool secret_equals(const struct ukey_secret *s, const char *text)
{
	return s && strlen(text) == s->len && CRYPTO_memcmp(s->data, text, s->len) == 0;
}

/* Finds the token and its module for a PIN request, or replies why not. */
static const struct token *pin_target(struct ukeyd *d, struct client *c, json_object *id,
				      json_object *params, size_t *ret_module)
{
	const char *serial = param_string(params, "serial");
	const struct token *t;

	if (!d->ready) {
		client_reply_error(c, id, UKEY_WIRE_BUSY, "still reading the tokens; try again");
		return NULL;
	}
	if (!serial) {
		client_reply_error(c, id, UKEY_WIRE_INVALID_REQUEST,
				   "a string \"serial\" is needed");
		return NULL;
	}
	t = token_cache_find(&d->model, serial);
	if (!t || !t->initialized) {
		client_reply_error(c, id, UKEY_WIRE_NOT_FOUND, "no plugged token has that serial");
		return NULL;
	}
	for (size_t i = 0; i < d->n_modules; i++)
		if (strcmp(worker_get_path(d->modules[i].worker), t->module) == 0) {
			*ret_module = i;
			return t;
		}
	client_reply_error(c, id, UKEY_WIRE_NOT_FOUND, "the token's module is gone");
	return NULL;
}

/* A new PIN the policy refuses never reaches the token. */
static bool refuse_by_policy(struct ukeyd *d, struct client *c, json_object *id,
			     const struct token *t, const struct ukey_secret *new_pin,
			     const struct ukey_secret *old_pin, const char *operation)
{
	enum pin_refusal why =
		pin_policy_check(&d->cfg->pin_policy, new_pin, old_pin,
				 token_profile(d, t)->default_pin, t->pin_min, t->pin_max);
	json_object *extra;

	if (why == PIN_ACCEPTED)
		return false;
	audit(d, client_get_peer(c), client_get_program(c), t->serial, operation,
	      "refused_by_policy");
	extra = json_object_new_object();
	json_object_object_add(extra, "reason", json_object_new_string(pin_refusal_name(why)));
	json_object_object_add(extra, "min_len",
			       json_object_new_int64(d->cfg->pin_policy.min_length > t->pin_min
							     ? d->cfg->pin_policy.min_length
							     : t->pin_min));
	json_object_object_add(extra, "max_len", json_object_new_int64((int64_t)t->pin_max));
	client_reply_error_ext(c, id, UKEY_WIRE_PIN_POLICY,
			       "the new PIN is refused by the PIN policy", extra);
	return true;
}

static void submit_job(struct ukeyd *d, struct client *c, json_object *id, size_t module,
		       const char *operation, struct job *job)
{
	struct pin_request *req = calloc(1, sizeof(*req));

	if (!req) {
		job_free(job);
		reply_no_memory(c, id);
		return;
	}
	req->client = client_ref(c);
	client_owe(c);
	req->id = json_object_get(id);
	req->peer = *client_get_peer(c);
	snprintf(req->program, sizeof(req->program), "%s", client_get_program(c));
	req->module = module;
	req->operation = operation;
	job->userdata = req;
	ukeyd_submit_job(d, module, job);
}

static bool param_force(json_object *params)
{
	json_object *v;

	return json_object_object_get_ex(params, "force", &v) && json_object_get_boolean(v);
}

static void method_pin_change(struct ukeyd *d, struct client *c, json_object *id,
			      json_object *params)
{
	struct ukey_secret *old_pin, *new_pin;
	const struct token *t;
	struct job *job;
	size_t module;

	if (!(t = pin_target(d, c, id, params, &module)))
		return;
	old_pin = param_secret(params, "old_pin");
	new_pin = param_secret(params, "new_pin");
	if (!old_pin || !new_pin) {
		ukey_secret_free(old_pin);
		ukey_secret_free(new_pin);
		client_reply_error(c, id, UKEY_WIRE_INVALID_REQUEST,
				   "\"old_pin\" and \"new_pin\" are needed");
		return;
	}
	if (refuse_by_policy(d, c, id, t, new_pin, old_pin, "pin_change")) {
		ukey_secret_free(old_pin);
		ukey_secret_free(new_pin);
		return;
	}
	job = job_new(JOB_CHANGE_PIN, t->serial, old_pin, new_pin, param_force(params));
	if (!job) {
		reply_no_memory(c, id);
		return;
	}
	submit_job(d, c, id, module, "pin_change", job);
}

static void method_pin_unlock(struct ukeyd *d, struct client *c, json_object *id,
			      json_object *params)
{
	struct ukey_secret *so_pin, *new_pin;
	const struct token *t;
	struct job *job;
	size_t module;

	if (!(t = pin_target(d, c, id, params, &module)))
		return;
	if (refuse_unless_admin(d, c, id, t->serial, "pin_unlock"))
		return;
	so_pin = param_secret(params, "so_pin");
	if (!so_pin) {
		client_reply_error(c, id, UKEY_WIRE_INVALID_REQUEST, "\"so_pin\" is needed");
		return;
	}
	/* Without a new PIN the token goes back to its CA's default, as at
	 * the counter (解锁). A chosen one must pass the policy. */
	new_pin = param_secret(params, "new_pin");
	if (new_pin && refuse_by_policy(d, c, id, t, new_pin, NULL, "pin_unlock")) {
		ukey_secret_free(so_pin);
		ukey_secret_free(new_pin);
		return;
	}
	if (!new_pin)
		new_pin = ukey_secret_new(token_profile(d, t)->default_pin,
					  strlen(token_profile(d, t)->default_pin));
	job = job_new(JOB_UNLOCK_PIN, t->serial, so_pin, new_pin, param_force(params));
	if (!job || !job->new_pin) {
		job_free(job);
		reply_no_memory(c, id);
		return;
	}
	submit_job(d, c, id, module, "pin_unlock", job);
}

static void method_pin_probe_default(struct ukeyd *d, struct client *c, json_object *id,
				     json_object *params)
{
	const struct token *t;
	const char *def;
	struct job *job;
	size_t module;

	if (!(t = pin_target(d, c, id, params, &module)))
		return;
	def = token_profile(d, t)->default_pin;
	job = job_new(JOB_PROBE_DEFAULT_PIN, t->serial, ukey_secret_new(def, strlen(def)), NULL,
		      false);
	if (!job) {
		reply_no_memory(c, id);
		return;
	}
	submit_job(d, c, id, module, "pin_probe_default", job);
}

static void method_get_private(struct ukeyd *d, struct client *c, json_object *id,
			       json_object *params)
{
	const struct token *t;
	struct job *job;
	size_t module;

	if (!(t = pin_target(d, c, id, params, &module)))
		return;
	struct private_read_job *pj =
		private_read_job_new(t->serial, param_secret(params, "pin"), param_force(params));
	job = pj ? &pj->job : NULL;
	if (!job) {
		client_reply_error(c, id, UKEY_WIRE_INVALID_REQUEST, "\"pin\" must be a string");
		return;
	}
	submit_job(d, c, id, module, "read_private", job);
}

static void method_audit(struct ukeyd *d, struct client *c, json_object *id, json_object *params)
{
	json_object *since, *entries = NULL, *result;
	int64_t from = 0;

	if (refuse_unless_admin(d, c, id, NULL, "audit_read"))
		return;
	if (json_object_object_get_ex(params, "since", &since)) {
		if (!json_object_is_type(since, json_type_int)) {
			client_reply_error(c, id, UKEY_WIRE_INVALID_REQUEST,
					   "\"since\" is a Unix time");
			return;
		}
		from = json_object_get_int64(since);
	}
	if (audit_read(d->audit_path, from, &entries) < 0 || !(result = json_object_new_object())) {
		json_object_put(entries);
		reply_no_memory(c, id);
		return;
	}
	json_object_object_add(result, "entries", entries);
	client_reply(c, id, result);
}

/* Reads "recipients":[{"issuer_der","serial","skid"}] (hex strings). */
static struct bid_recipient *read_recipients(json_object *params, size_t *ret_n)
{
	json_object *arr;
	struct bid_recipient *r;
	size_t n;

	*ret_n = 0;
	if (!json_object_object_get_ex(params, "recipients", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return NULL;
	n = json_object_array_length(arr);
	r = calloc(n + 1, sizeof(*r));
	for (size_t i = 0; r && i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i);
		r[i] = (struct bid_recipient){param_string(o, "issuer_der"),
					      param_string(o, "serial"), param_string(o, "skid")};
	}
	*ret_n = r ? n : 0;
	return r;
}

static int copy_test_cert(struct test_cert *out, const struct token_cert *c)
{
	return c ? test_cert_set(out, c->der, c->der_len, c->id, c->id_len) : 0;
}

/* --full: the keys are used for real, with the caller's PIN; the verdict
 * is given when the worker is done. The caller's check parameters ride
 * along with the job. */
static void method_check_full(struct ukeyd *d, struct client *c, json_object *id,
			      json_object *params)
{
	const struct token *t;
	struct job *job;
	size_t module;

	if (!(t = pin_target(d, c, id, params, &module)))
		return;
	struct selftest_job *sj =
		selftest_job_new(t->serial, param_secret(params, "pin"), param_force(params));
	job = sj ? &sj->job : NULL;
	if (!job || copy_test_cert(&sj->sign_cert, check_current_cert(t, true)) < 0 ||
	    copy_test_cert(&sj->enc_cert, check_current_cert(t, false)) < 0) {
		job_free(job);
		reply_no_memory(c, id);
		return;
	}
	submit_job(d, c, id, module, "selftest", job);
	/* The check's own parameters (opening, bid) are needed at the end. */
	((struct pin_request *)job->userdata)->params = json_object_get(params);
}

static json_object *check_result(struct ukeyd *d, json_object *params, const char *serial,
				 const struct selftest_result *selftest)
{
	enum ukey_verdict verdict = UKEY_READY, v;
	json_object *o, *tokens = json_object_new_array(), *result;
	struct check_options opts = {.now = time(NULL), .selftest = selftest};
	_cleanup_free_ struct bid_recipient *recipients = NULL;

	if (json_object_object_get_ex(params, "opening", &o))
		opts.opening = json_object_get_int64(o);
	opts.bid_given = json_object_object_get_ex(params, "bid", &o) && json_object_get_boolean(o);
	recipients = read_recipients(params, &opts.n_recipients);
	opts.recipients = recipients;
	if (serial) {
		const struct token *t = token_cache_find(&d->model, serial);
		json_object_array_add(tokens, t && t->initialized
						      ? check_token(t, &opts, &verdict)
						      : check_not_found(serial, &verdict));
	} else {
		for (size_t i = 0; i < d->model.n_tokens; i++) {
			if (!d->model.tokens[i]->initialized)
				continue;
			json_object_array_add(tokens, check_token(d->model.tokens[i], &opts, &v));
			verdict = check_worse_verdict(verdict, v);
		}
		if (json_object_array_length(tokens) == 0)
			json_object_array_add(tokens, check_not_found(NULL, &verdict));
	}
	result = json_object_new_object();
	json_object_object_add(result, "verdict",
			       json_object_new_string(ukey_wire_verdict_name(verdict)));
	json_object_object_add(result, "tokens", tokens);
	return result;
}

static void method_check(struct ukeyd *d, struct client *c, json_object *id, json_object *params)
{
	if (json_object_object_get_ex(params, "pin", NULL)) {
		if (!param_string(params, "serial")) {
			client_reply_error(c, id, UKEY_WIRE_INVALID_REQUEST,
					   "the full test needs the token's \"serial\"");
			return;
		}
		method_check_full(d, c, id, params);
		return;
	}
	client_reply(c, id, check_result(d, params, param_string(params, "serial"), NULL));
}

static const struct {
	const char *name;
	method_fn fn;
	bool rescans; /* asks every module for a fresh scan first */
	bool waits;   /* held until the first scan is in */
} methods[] = {
	{"list", method_list, false, true},
	{"get", method_get, false, true},
	{"refresh", method_refresh, true, true},
	{"seal_picture", method_seal_picture, false, true},
	{"check", method_check, false, true},
	{"subscribe", method_subscribe, false, false},
	{"pin_change", method_pin_change, false, false},
	{"pin_unlock", method_pin_unlock, false, false},
	{"pin_probe_default", method_pin_probe_default, false, false},
	{"audit", method_audit, false, false},
};

static const char *outcome_wire_code(enum job_outcome o)
{
	switch (o) {
	case JOB_WRONG_PIN:
		return UKEY_WIRE_PIN_INCORRECT;
	case JOB_PIN_LOCKED:
		return UKEY_WIRE_PIN_LOCKED;
	case JOB_GUARD_REFUSED:
		return UKEY_WIRE_LOCKOUT_GUARD;
	case JOB_TOKEN_REMOVED:
		return UKEY_WIRE_TOKEN_REMOVED;
	case JOB_DONE:
	case JOB_FAILED:
		break;
	}
	return UKEY_WIRE_TOKEN_ERROR;
}

static const char *outcome_message(enum job_outcome o)
{
	switch (o) {
	case JOB_DONE:
		return "done";
	case JOB_WRONG_PIN:
		return "wrong PIN: one try spent";
	case JOB_PIN_LOCKED:
		return "the PIN is locked";
	case JOB_GUARD_REFUSED:
		return "refused: this attempt could lock the token (ask with force to spend the "
		       "final try)";
	case JOB_TOKEN_REMOVED:
		return "the token was removed";
	case JOB_FAILED:
		break;
	}
	return "the token failed the operation";
}

/* What a finished job teaches about the PIN being the CA's default. */
static void remember_default(struct ukeyd *d, const struct job *j, const char *def)
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
	    (r = token_memory_set(d->memory, j->serial, TOKEN_FACT_PIN_DEFAULT, known)) < 0)
		log_error("cannot save what is known of token %s's PIN: %s", j->serial,
			  strerror(-r));
}

void requests_finish_job(struct ukeyd *d, struct job *j)
{
	struct pin_request *req = j->userdata;
	const struct token *t = token_cache_find(&d->model, j->serial);
	const char *def = t ? token_profile(d, t)->default_pin
			    : ca_profiles_get(&d->profiles, "unknown")->default_pin;
	json_object *pin;

	if (j->outcome == JOB_FAILED)
		log_warning("token %s: %s failed: CK_RV 0x%lx", j->serial, req->operation, j->rv);
	remember_default(d, j, def);
	audit(d, &req->peer, req->program, j->serial, req->operation,
	      j->outcome == JOB_DONE ? "done" : outcome_wire_code(j->outcome));
	/* The model first, so the client's next query sees the new state. */
	if (j->scan) {
		ukeyd_apply_scan(d, req->module, j->scan);
		j->scan = NULL;
	}
	if (client_is_connected(req->client)) {
		pin = json_object_new_object();
		json_object_object_add(
			pin, "user", json_object_new_string(ukey_wire_pin_state_name(j->user_pin)));
		json_object_object_add(pin, "so",
				       json_object_new_string(ukey_wire_pin_state_name(j->so_pin)));
		if (j->kind == JOB_PROBE_DEFAULT_PIN && j->outcome != JOB_GUARD_REFUSED &&
		    j->outcome != JOB_PIN_LOCKED)
			json_object_object_add(pin, "default",
					       json_object_new_boolean(j->outcome == JOB_DONE));
		if (j->outcome == JOB_DONE && j->kind == JOB_SELFTEST) {
			struct selftest_job *sj = container_of(j, struct selftest_job, job);
			struct selftest_result st = {sj->sign_ok, sj->decrypt_ok};
			json_object_put(pin);
			client_reply(req->client, req->id,
				     check_result(d, req->params, j->serial, &st));
		} else if (j->outcome == JOB_DONE && j->kind == JOB_READ_PRIVATE) {
			/* Never cached: the private seals are for this caller only. */
			const struct token *now_t = token_cache_find(&d->model, j->serial);
			json_object *result = json_object_new_object();
			json_object_put(pin);
			if (now_t)
				json_object_object_add(
					result, "token",
					token_to_json_with_private(
						now_t,
						container_of(j, struct private_read_job, job)
							->objects,
						time(NULL)));
			if (now_t)
				client_reply(req->client, req->id, result);
			else {
				json_object_put(result);
				client_reply_error(req->client, req->id, UKEY_WIRE_TOKEN_REMOVED,
						   "the token was removed");
			}
		} else if (j->outcome == JOB_DONE) {
			json_object *result = json_object_new_object();
			json_object_object_add(result, "pin", pin);
			client_reply(req->client, req->id, result);
		} else {
			json_object *extra = json_object_new_object();
			json_object_object_add(extra, "pin", pin);
			if (j->outcome == JOB_FAILED)
				json_object_object_add(extra, "ck_rv",
						       json_object_new_int64((int64_t)j->rv));
			client_reply_error_ext(req->client, req->id, outcome_wire_code(j->outcome),
					       outcome_message(j->outcome), extra);
		}
	}
	client_paid(req->client);
	client_unref(req->client);
	json_object_put(req->id);
	json_object_put(req->params);
	free(req);
	job_free(j);
}

static bool pending_satisfied(const struct ukeyd *d, const struct pending *p)
{
	for (size_t i = 0; i < d->n_modules; i++)
		if (ukeyd_module_owes(d, i, p->targets[i]))
			return false;
	return true;
}

static void pending_free(struct pending *p)
{
	client_paid(p->client);
	client_unref(p->client);
	json_object_put(p->id);
	json_object_put(p->params);
	free(p->method);
	free(p->targets);
	free(p);
}

static int pending_add(struct ukeyd *d, struct client *c, json_object *id, const char *method,
		       json_object *params, bool rescan)
{
	struct pending *p = calloc(1, sizeof(*p));

	if (!p)
		return -ENOMEM;
	p->targets = calloc(d->n_modules + 1, sizeof(*p->targets));
	p->method = strdup(method);
	if (!p->targets || !p->method) {
		free(p->targets);
		free(p->method);
		free(p);
		return -ENOMEM;
	}
	for (size_t i = 0; i < d->n_modules; i++)
		p->targets[i] = rescan ? ukeyd_request_scan(d, i) : 1;
	p->client = client_ref(c);
	client_owe(c);
	p->id = json_object_get(id);
	p->params = json_object_get(params);
	p->next = d->pending;
	d->pending = p;
	return 0;
}

static void dispatch_now(struct ukeyd *d, struct client *c, json_object *id, const char *method,
			 json_object *params)
{
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++)
		if (strcmp(methods[i].name, method) == 0) {
			methods[i].fn(d, c, id, params);
			return;
		}
}

void requests_dispatch(struct client *c, json_object *id, const char *method, json_object *params,
		       void *userdata)
{
	struct ukeyd *d = userdata;

	for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
		if (strcmp(methods[i].name, method) != 0)
			continue;
		/* Until the first scan is in, an answer would wrongly say "no
		 * tokens": hold the request until it is. Not one that carries a
		 * PIN: the server wipes PINs once this returns, and a held
		 * request would later spend a try with a wiped one. */
		if (!d->ready && methods[i].waits &&
		    json_object_object_get_ex(params, "pin", NULL)) {
			client_reply_error(c, id, UKEY_WIRE_BUSY,
					   "still reading the tokens; try again");
			return;
		}
		if (methods[i].rescans || (methods[i].waits && !d->ready)) {
			if (pending_add(d, c, id, method, params, methods[i].rescans) < 0)
				reply_no_memory(c, id);
			else
				requests_run_pending(d);
			return;
		}
		methods[i].fn(d, c, id, params);
		return;
	}
	client_reply_error(c, id, UKEY_WIRE_UNKNOWN_METHOD, "unknown method");
}

void requests_run_pending(struct ukeyd *d)
{
	struct pending **pp = &d->pending;

	while (*pp) {
		struct pending *p = *pp;

		if (!pending_satisfied(d, p)) {
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		if (client_is_connected(p->client))
			dispatch_now(d, p->client, p->id, p->method, p->params);
		pending_free(p);
	}
}

void requests_drop_pending(struct ukeyd *d)
{
	while (d->pending) {
		struct pending *p = d->pending;
		d->pending = p->next;
		pending_free(p);
	}
}
