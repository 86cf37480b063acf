/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The methods of the protocol (docs/protocol.md), as a table: for each, the
 * operation that serves it, the shape of its parameters, and its policy
 * columns. One wire method may be served by several operations ("get"
 * with a PIN reads private objects; "check" with a PIN uses the keys): a
 * row names the member that selects it. Dispatch checks the shape, applies
 * the policy, and runs, holds or refuses the request; handlers decide
 * nothing of this themselves.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>

#include "request.h"

struct client;
struct param_spec;
struct service;

struct method {
	const char *name;    /* on the wire */
	const char *variant; /* this row serves the method when params has this member */
	enum request_status (*run)(struct request *req, json_object **ret_result);
	const struct param_spec *params;
	/* Policy columns. */
	bool waits_first_scan;	     /* held until every module finished its first scan */
	bool spends_pin;	     /* carries a PIN or spends a try: busy until then; only for
				      * pin_users, and "force" only for the admin group or the
				      * active session's user */
	bool admin_only;	     /* root or the admin group; refusals are audited */
	bool rescans;		     /* asks every module for a fresh scan, answered when in */
	const char *audit_operation; /* the audit log's name for it (refusals) */
};

/* The row serving a request, or NULL for an unknown method. */
const struct method *request_table_lookup(const char *name, json_object *params);

enum request_policy {
	POLICY_RUN,
	POLICY_WAIT_FIRST_SCAN,
	POLICY_WAIT_RESCAN,
	POLICY_REFUSE_BUSY,
	POLICY_REFUSE_PERMISSION, /* admin_only */
	POLICY_REFUSE_PIN_USERS,  /* spends_pin, and pin_users does not include the peer */
	POLICY_REFUSE_FORCE,	  /* spends_pin with force, from neither the admin group nor
				   * the active session's user */
};

/* What a peer may do, from its credentials at connect time. */
struct request_rights {
	bool admin;    /* root, or the admin group */
	bool use_pins; /* in pin_users (the admin too) */
	bool force;    /* may spend a PIN's final try: the admin, or the user of an active
			* local session (sd-login) */
};

/* What the policy columns make of a request of m (asking for force or
 * not), for a daemon that is ready or not and a peer with those rights. */
enum request_policy request_table_policy(const struct method *m, bool ready,
					 const struct request_rights *rights, bool force);

/* The server's request handler (userdata is the service). */
void request_table_dispatch(struct client *c, json_object *id, const char *method,
			    json_object *params, void *userdata);

/* Runs the held requests whose scans are in (after progress). */
void request_table_run_pending(struct service *svc);

/* Drops every held request (shutdown). */
void request_table_drop_pending(struct service *svc);
