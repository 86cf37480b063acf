/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What each request method does. Answers come from the cached model;
 * only "refresh" makes the workers touch tokens. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "p11-worker.h"
#include "proto.h"
#include "server.h"
#include "ukeyd.h"
#include "util.h"

typedef void (*method_fn)(struct ukeyd *d, struct client *c, json_object *id, json_object *params);

static void reply_no_memory(struct client *c, json_object *id)
{
	client_reply_error(c, id, UKEY_WIRE_INTERNAL, "out of memory");
}

static void method_list(struct ukeyd *d, struct client *c, json_object *id, json_object *params)
{
	json_object *tokens = token_model_list_json(&d->model, time(NULL)), *result;

	result = tokens ? json_object_new_object() : NULL;
	if (!result) {
		reply_no_memory(c, id);
		return;
	}
	json_object_object_add(result, "tokens", json_object_get(tokens));
	client_reply(c, id, result);
}

static void method_get(struct ukeyd *d, struct client *c, json_object *id, json_object *params)
{
	json_object *serial, *tokens, *result;
	const char *want;

	if (!json_object_object_get_ex(params, "serial", &serial) ||
	    !json_object_is_type(serial, json_type_string)) {
		client_reply_error(c, id, UKEY_WIRE_INVALID_REQUEST, "get needs a string \"serial\"");
		return;
	}
	want = json_object_get_string(serial);
	tokens = token_model_list_json(&d->model, time(NULL));
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

static void method_refresh(struct ukeyd *d, struct client *c, json_object *id, json_object *params)
{
	/* Reached only once the scans asked for by this request completed. */
	client_reply(c, id, NULL);
}

static const struct {
	const char *name;
	method_fn fn;
	bool rescans; /* asks every module for a fresh scan first */
} methods[] = {
	{"list", method_list, false},
	{"get", method_get, false},
	{"refresh", method_refresh, true},
};

static bool pending_satisfied(const struct ukeyd *d, const struct pending *p)
{
	for (size_t i = 0; i < d->n_modules; i++)
		if (d->modules[i].completed < p->targets[i])
			return false;
	return true;
}

static void pending_free(struct pending *p)
{
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
		p->targets[i] = rescan ? p11_worker_request_scan(d->modules[i].worker) : 1;
	p->client = client_ref(c);
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
		 * tokens": hold the request until it is. */
		if (methods[i].rescans || !d->ready) {
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
