/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ops-pin.h"

#include <string.h>
#include <time.h>

#include "ca-profiles.h"
#include "inventory.h"
#include "job.h"
#include "pin-jobs.h"
#include "request-params.h"
#include "secret.h"
#include "service.h"
#include "token-cache.h"
#include "token-json.h"
#include "token.h"
#include "util.h"

/* A copy of a PIN member the shape check has seen; NULL when absent or
 * on ENOMEM. */
static struct ukey_secret *param_secret(struct request *req, const char *name)
{
	const char *s = param_string(req->params, name);

	return s ? ukey_secret_new(s, strlen(s)) : NULL;
}

enum request_status op_pin_change(struct request *req, json_object **ret_result)
{
	_cleanup_secret_ struct ukey_secret *old_pin = param_secret(req, "old_pin");
	_cleanup_secret_ struct ukey_secret *new_pin = param_secret(req, "new_pin");
	const struct token *t;
	struct module *m;
	enum request_status st;
	struct job *j;

	if ((st = pin_target(req, &t, &m)) != REQUEST_DONE)
		return st;
	if (!old_pin || !new_pin)
		return REQUEST_E_NO_MEMORY;
	if ((st = pin_policy_refuse(req, t, new_pin, old_pin, "pin_change")) != REQUEST_DONE)
		return st;
	j = job_new(JOB_CHANGE_PIN, t->serial, TAKE_PTR(old_pin), TAKE_PTR(new_pin),
		    param_bool(req->params, "force"));
	if (!j)
		return REQUEST_E_NO_MEMORY;
	return pin_job_submit(req, m, j, "pin_change", pin_answer_states);
}

enum request_status op_pin_unlock(struct request *req, json_object **ret_result)
{
	_cleanup_secret_ struct ukey_secret *so_pin = param_secret(req, "so_pin");
	_cleanup_secret_ struct ukey_secret *new_pin = NULL;
	const struct token *t;
	struct module *m;
	enum request_status st;
	const char *def;
	struct job *j;

	if ((st = pin_target(req, &t, &m)) != REQUEST_DONE)
		return st;
	if (!so_pin)
		return REQUEST_E_NO_MEMORY;
	/* Without a new PIN the token goes back to its CA's default, as at
	 * the counter (解锁). A chosen one must pass the policy. */
	if (param_string(req->params, "new_pin")) {
		new_pin = param_secret(req, "new_pin");
		if (new_pin &&
		    (st = pin_policy_refuse(req, t, new_pin, NULL, "pin_unlock")) != REQUEST_DONE)
			return st;
	} else {
		def = pin_token_profile(req, t)->default_pin;
		new_pin = ukey_secret_new(def, strlen(def));
	}
	if (!new_pin)
		return REQUEST_E_NO_MEMORY;
	j = job_new(JOB_UNLOCK_PIN, t->serial, TAKE_PTR(so_pin), TAKE_PTR(new_pin),
		    param_bool(req->params, "force"));
	if (!j)
		return REQUEST_E_NO_MEMORY;
	return pin_job_submit(req, m, j, "pin_unlock", pin_answer_states);
}

enum request_status op_pin_probe_default(struct request *req, json_object **ret_result)
{
	const struct token *t;
	struct module *m;
	enum request_status st;
	const char *def;
	struct job *j;

	if ((st = pin_target(req, &t, &m)) != REQUEST_DONE)
		return st;
	def = pin_token_profile(req, t)->default_pin;
	j = job_new(JOB_PROBE_DEFAULT_PIN, t->serial, ukey_secret_new(def, strlen(def)), NULL,
		    false);
	if (!j)
		return REQUEST_E_NO_MEMORY;
	return pin_job_submit(req, m, j, "pin_probe_default", pin_answer_states);
}

/* Never cached: the private seals are for this caller only. */
static enum request_status answer_private(struct request *req, struct job *j,
					  json_object **ret_result)
{
	struct private_read_job *pj = container_of(j, struct private_read_job, job);
	const struct token *t =
		token_cache_find(inventory_get_cache(req->svc->inventory), j->serial);
	json_object *result;

	if (j->outcome != JOB_DONE)
		return pin_answer_states(req, j, ret_result);
	if (!t)
		return REQUEST_E_TOKEN_REMOVED;
	result = json_object_new_object();
	if (!result)
		return REQUEST_E_NO_MEMORY;
	json_object_object_add(result, "token",
			       token_to_json_with_private(t, pj->objects, time(NULL)));
	*ret_result = result;
	return REQUEST_DONE;
}

enum request_status op_get_private(struct request *req, json_object **ret_result)
{
	struct private_read_job *pj;
	const struct token *t;
	struct module *m;
	enum request_status st;

	if ((st = pin_target(req, &t, &m)) != REQUEST_DONE)
		return st;
	pj = private_read_job_new(t->serial, param_secret(req, "pin"),
				  param_bool(req->params, "force"));
	if (!pj)
		return REQUEST_E_NO_MEMORY;
	return pin_job_submit(req, m, &pj->job, "read_private", answer_private);
}
