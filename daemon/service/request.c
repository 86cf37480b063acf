/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "request.h"

#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "server.h"
#include "util.h"

static const struct {
	const char *code;
	const char *message;
} status_wire[] = {
	[REQUEST_E_INVALID] = {UKEY_WIRE_INVALID_REQUEST, "invalid parameters"},
	[REQUEST_E_NOT_FOUND] = {UKEY_WIRE_NOT_FOUND, "no plugged token has that serial"},
	[REQUEST_E_BUSY] = {UKEY_WIRE_BUSY, "still reading the tokens; try again"},
	[REQUEST_E_PERMISSION] = {UKEY_WIRE_PERMISSION_DENIED,
				  "only root or members of the admin group may do this"},
	[REQUEST_E_NO_MEMORY] = {UKEY_WIRE_INTERNAL, "out of memory"},
	[REQUEST_E_PIN_POLICY] = {UKEY_WIRE_PIN_POLICY, "the new PIN is refused by the PIN policy"},
	[REQUEST_E_PIN_INCORRECT] = {UKEY_WIRE_PIN_INCORRECT, "wrong PIN: one try spent"},
	[REQUEST_E_PIN_LOCKED] = {UKEY_WIRE_PIN_LOCKED, "the PIN is locked"},
	[REQUEST_E_LOCKOUT_GUARD] = {UKEY_WIRE_LOCKOUT_GUARD,
				     "refused: this attempt could lock the token (ask with force "
				     "to spend the final try)"},
	[REQUEST_E_TOKEN_REMOVED] = {UKEY_WIRE_TOKEN_REMOVED, "the token was removed"},
	[REQUEST_E_TOKEN] = {UKEY_WIRE_TOKEN_ERROR, "the token failed the operation"},
	[REQUEST_E_RETRY_LATER] = {UKEY_WIRE_RETRY_LATER,
				   "a wrong PIN was entered on this token lately: wait retry_after "
				   "seconds before the next try"},
	[REQUEST_E_AUDIT] = {UKEY_WIRE_AUDIT_UNAVAILABLE,
			     "the audit log cannot be written: PIN operations are refused until it "
			     "can be"},
};

const char *request_status_wire_code(enum request_status status)
{
	if ((size_t)status < sizeof(status_wire) / sizeof(status_wire[0]) &&
	    status_wire[status].code)
		return status_wire[status].code;
	return UKEY_WIRE_INTERNAL;
}

struct request *request_new(struct service *svc, const struct method *m, struct client *c,
			    json_object *id, json_object *params)
{
	struct request *r = calloc(1, sizeof(*r));
	const char *program;
	size_t len;

	if (!r)
		return NULL;
	r->svc = svc;
	r->method = m;
	r->client = client_ref(c);
	r->id = json_object_get(id);
	r->params = json_object_get(params);
	r->peer = *client_get_peer(c);
	/* Not snprintf: this runs for every request, and costs most of one. */
	program = client_get_program(c);
	len = strnlen(program, sizeof(r->program) - 1);
	memcpy(r->program, program, len);
	r->program[len] = '\0';
	return r;
}

void request_keep(struct request *r)
{
	if (r->kept)
		return;
	r->kept = true;
	client_owe(r->client);
}

void request_complete(struct request *r, enum request_status status, json_object *result)
{
	if (!client_is_connected(r->client)) {
		json_object_put(result);
	} else if (status == REQUEST_DONE) {
		client_reply(r->client, r->id, result);
	} else {
		const char *message = r->error_message;

		json_object_put(result);
		if (!message && (size_t)status < sizeof(status_wire) / sizeof(status_wire[0]))
			message = status_wire[status].message;
		client_reply_error_ext(r->client, r->id, request_status_wire_code(status),
				       message ? message : "internal error",
				       TAKE_PTR(r->error_extra));
	}
	request_free(r);
}

void request_free(struct request *r)
{
	if (!r)
		return;
	if (r->kept)
		client_paid(r->client);
	client_unref(r->client);
	json_object_put(r->id);
	json_object_put(r->params);
	json_object_put(r->error_extra);
	free(r);
}
