/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ops-check.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "inventory.h"
#include "job.h"
#include "pin-jobs.h"
#include "request-params.h"
#include "secret.h"
#include "service.h"
#include "token-cache.h"
#include "token.h"
#include "util.h"
#include "wire-names.h"

/* The recipients of a bid (shape checked): hex strings, NULL when absent. */
static struct bid_recipient *read_recipients(json_object *params, size_t *ret_n)
{
	json_object *arr;
	struct bid_recipient *r;
	size_t n;

	*ret_n = 0;
	if (!json_object_object_get_ex(params, "recipients", &arr))
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

/* The verdict for the token the request names, or for every initialized
 * one, with the self-test's outcome when there was one. */
static json_object *check_result(struct request *req, const struct selftest_result *selftest)
{
	struct token_cache *cache = inventory_get_cache(req->svc->inventory);
	const char *serial = param_string(req->params, "serial");
	enum ukey_verdict verdict = UKEY_READY, v;
	json_object *tokens = json_object_new_array(), *result;
	struct check_options opts = {
		.now = time(NULL),
		.opening = param_int(req->params, "opening", 0),
		.bid_given = param_bool(req->params, "bid"),
		.selftest = selftest,
	};
	_cleanup_free_ struct bid_recipient *recipients =
		read_recipients(req->params, &opts.n_recipients);

	opts.recipients = recipients;
	if (serial) {
		const struct token *t = token_cache_find(cache, serial);
		json_object_array_add(tokens, t && t->initialized
						      ? check_token(t, &opts, &verdict)
						      : check_not_found(serial, &verdict));
	} else {
		for (size_t i = 0; i < cache->n_tokens; i++) {
			if (!cache->tokens[i]->initialized)
				continue;
			json_object_array_add(tokens, check_token(cache->tokens[i], &opts, &v));
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

enum request_status op_check(struct request *req, json_object **ret_result)
{
	*ret_result = check_result(req, NULL);
	return *ret_result ? REQUEST_DONE : REQUEST_E_NO_MEMORY;
}

static enum request_status answer_full(struct request *req, struct job *j, json_object **ret_result)
{
	struct selftest_job *sj = container_of(j, struct selftest_job, job);
	struct selftest_result st = {sj->sign_ok, sj->decrypt_ok};

	if (j->outcome != JOB_DONE)
		return pin_answer_states(req, j, ret_result);
	*ret_result = check_result(req, &st);
	return *ret_result ? REQUEST_DONE : REQUEST_E_NO_MEMORY;
}

static int copy_test_cert(struct test_cert *out, const struct token_cert *c)
{
	return c ? test_cert_set(out, c->der, c->der_len, c->id, c->id_len) : 0;
}

/* --full: the keys are used for real, with the caller's PIN; the verdict
 * is given when the worker is done, with the request's own parameters
 * (opening, bid) as they came. */
enum request_status op_check_full(struct request *req, json_object **ret_result)
{
	const char *pin = param_string(req->params, "pin");
	_cleanup_job_ struct job *j = NULL;
	struct selftest_job *sj;
	const struct token *t;
	struct module *m;
	enum request_status st;

	if ((st = pin_target(req, &t, &m)) != REQUEST_DONE)
		return st;
	sj = selftest_job_new(t->serial, ukey_secret_new(pin, strlen(pin)),
			      param_bool(req->params, "force"));
	if (!sj)
		return REQUEST_E_NO_MEMORY;
	j = &sj->job;
	if (copy_test_cert(&sj->sign_cert, check_current_cert(t, true)) < 0 ||
	    copy_test_cert(&sj->enc_cert, check_current_cert(t, false)) < 0)
		return REQUEST_E_NO_MEMORY;
	return pin_job_submit(req, m, TAKE_PTR(j), "selftest", answer_full);
}
