/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One request being answered: who asked (copied at dispatch), what, and
 * the one place where a handler's status becomes the reply on the wire.
 * A handler answers at once by returning a status, or keeps the request
 * (REQUEST_LATER) and completes it when its job is done.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/socket.h>

struct client;
struct method;
struct service;

enum request_status {
	REQUEST_DONE,	      /* the result, or {} */
	REQUEST_LATER,	      /* the handler keeps the request and completes it later */
	REQUEST_E_INVALID,    /* invalid_request: a parameter's shape or format */
	REQUEST_E_NOT_FOUND,  /* no plugged token has that serial */
	REQUEST_E_BUSY,	      /* still reading the tokens */
	REQUEST_E_PERMISSION, /* needs root or the admin group */
	REQUEST_E_NO_MEMORY,
	REQUEST_E_PIN_POLICY, /* the new PIN is refused */
	REQUEST_E_PIN_INCORRECT,
	REQUEST_E_PIN_LOCKED,
	REQUEST_E_LOCKOUT_GUARD,
	REQUEST_E_TOKEN_REMOVED,
	REQUEST_E_TOKEN,       /* the token failed the operation */
	REQUEST_E_AUDIT,       /* the audit log cannot be written (or read): nothing was tried */
	REQUEST_E_RETRY_LATER, /* a wrong PIN lately, or a PIN operation under way: wait */
};

struct request {
	struct service *svc;
	const struct method *method;
	struct client *client;
	json_object *id;
	json_object *params; /* checked against the method's shape; only the members it
			      * names (params_keep), NULL for a method without any */
	struct ucred peer;   /* at connect time */
	char program[32];
	bool kept; /* a reply is owed later: the client stays until it is sent */
	/* What an error reply says besides its code: a message of the
	 * handler's own (static) and members to add (taken). */
	const char *error_message;
	json_object *error_extra;
};

/* A request of client's; NULL on ENOMEM. id and params (NULL allowed) are
 * referenced. */
struct request *request_new(struct service *svc, const struct method *m, struct client *c,
			    json_object *id, json_object *params);

/* Owes the client a reply: it is sent even after a half-close. */
void request_keep(struct request *r);

/* Sends the reply for status (result taken: DONE's answer) unless the
 * client is gone, then frees the request. */
void request_complete(struct request *r, enum request_status status, json_object *result);

/* Frees without replying; NULL is fine. */
void request_free(struct request *r);

/* The status's wire code ("invalid_request", ...). */
const char *request_status_wire_code(enum request_status status);
