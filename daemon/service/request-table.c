/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "request-table.h"

#include <stdlib.h>
#include <string.h>
#include <systemd/sd-login.h>

#include "audit.h"
#include "inventory.h"
#include "ops-audit.h"
#include "ops-check.h"
#include "ops-pin.h"
#include "ops-tokens.h"
#include "proto.h"
#include "refusals.h"
#include "request-params.h"
#include "server.h"
#include "service.h"
#include "util.h"

static const struct param_spec no_params[] = {{NULL}};
static const struct param_spec list_params[] = {{"generation", PARAM_INT, false}, {NULL}};
static const struct param_spec serial_only[] = {{"serial", PARAM_SERIAL, true}, {NULL}};
static const struct param_spec get_private_params[] = {
	{"serial", PARAM_SERIAL, true},
	{"pin", PARAM_PIN, true},
	{"force", PARAM_BOOL, false},
	{NULL},
};
static const struct param_spec seal_picture_params[] = {
	{"serial", PARAM_SERIAL, true},
	{"index", PARAM_INT, true},
	{NULL},
};
static const struct param_spec check_params[] = {
	{"serial", PARAM_SERIAL, false},
	{"opening", PARAM_INT, false},
	{"bid", PARAM_BOOL, false},
	{"recipients", PARAM_RECIPIENTS, false},
	{NULL},
};
static const struct param_spec check_full_params[] = {
	{"serial", PARAM_SERIAL, true},
	{"pin", PARAM_PIN, true},
	{"force", PARAM_BOOL, false},
	{"opening", PARAM_INT, false},
	{"bid", PARAM_BOOL, false},
	{"recipients", PARAM_RECIPIENTS, false},
	{NULL},
};
static const struct param_spec pin_change_params[] = {
	{"serial", PARAM_SERIAL, true},
	{"old_pin", PARAM_PIN, true},
	{"new_pin", PARAM_PIN, true},
	{"force", PARAM_BOOL, false},
	{NULL},
};
static const struct param_spec pin_unlock_params[] = {
	{"serial", PARAM_SERIAL, true},
	{"so_pin", PARAM_PIN, true},
	{"new_pin", PARAM_PIN, false},
	{"force", PARAM_BOOL, false},
	{NULL},
};
static const struct param_spec audit_params[] = {
	{"since", PARAM_INT, false},
	{"after", PARAM_INT, false},
	{"limit", PARAM_INT, false, 1, AUDIT_PAGE_MAX},
	{NULL},
};

/* A variant row comes before the plain row of its method. */
static const struct method methods[] = {
	/* Answered during the first scan too, saying so ("scanning"). */
	{"list", NULL, op_list, list_params},
	{"get", "pin", op_get_private, get_private_params, .waits_first_scan = true,
	 .spends_pin = true, .audit_operation = "read_private"},
	{"get", NULL, op_get, serial_only, .waits_first_scan = true},
	{"refresh", NULL, op_refresh, no_params, .waits_first_scan = true, .rescans = true},
	{"seal_picture", NULL, op_seal_picture, seal_picture_params, .waits_first_scan = true},
	{"check", "pin", op_check_full, check_full_params, .waits_first_scan = true,
	 .spends_pin = true, .audit_operation = "selftest"},
	{"check", NULL, op_check, check_params, .waits_first_scan = true},
	{"subscribe", NULL, op_subscribe, no_params},
	{"pin_change", NULL, op_pin_change, pin_change_params, .spends_pin = true,
	 .audit_operation = "pin_change"},
	{"pin_unlock", NULL, op_pin_unlock, pin_unlock_params, .spends_pin = true,
	 .admin_only = true, .audit_operation = "pin_unlock"},
	{"pin_probe_default", NULL, op_pin_probe_default, serial_only, .spends_pin = true,
	 .audit_operation = "pin_probe_default"},
	{"audit", NULL, op_audit, audit_params, .admin_only = true,
	 .audit_operation = "audit_read"},
};

const struct method *request_table_lookup(const char *name, json_object *params)
{
	for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
		const struct method *m = &methods[i];
		if (strcmp(m->name, name) != 0)
			continue;
		if (!m->variant || json_object_object_get_ex(params, m->variant, NULL))
			return m;
	}
	return NULL;
}

enum request_policy request_table_policy(const struct method *m, bool ready,
					 const struct request_rights *rights, bool force)
{
	if (m->admin_only && !rights->admin)
		return POLICY_REFUSE_PERMISSION;
	/* Who may spend a try of anyone's token: not any local user. */
	if (m->spends_pin && !rights->use_pins)
		return POLICY_REFUSE_PIN_USERS;
	if (m->spends_pin && force && !rights->force)
		return POLICY_REFUSE_FORCE;
	/* Not held: the server wipes PINs once dispatch returns, and a held
	 * request would later spend a try with a wiped one. */
	if (m->spends_pin && !ready)
		return POLICY_REFUSE_BUSY;
	if (m->rescans)
		return POLICY_WAIT_RESCAN;
	/* Until the first scan is in, an answer would wrongly say "no tokens". */
	if (m->waits_first_scan && !ready)
		return POLICY_WAIT_FIRST_SCAN;
	return POLICY_RUN;
}

/* Root, or a member of the admin group (from the peer's credentials at
 * connect time; the group's id is looked up at start and reload, never
 * per request). */
static bool peer_is_admin(const struct service *svc, const struct client *c)
{
	if (client_get_peer(c)->uid == 0)
		return true;
	return svc->settings.admin_gid != (gid_t)-1 && client_has_group(c, svc->settings.admin_gid);
}

/* The user has an active session on a seat (logind, through sd-login):
 * the one at the machine's keyboard, as polkit's "allow_active" that
 * pcsc-lite ships. A session over ssh, a cron job, a service user: no. */
static bool user_is_active_locally(uid_t uid)
{
	return sd_uid_get_seats(uid, 1, NULL) > 0;
}

/* Only for rows that need them: sd-login reads a file. */
static void peer_rights(const struct service *svc, const struct method *m, const struct client *c,
			struct request_rights *r)
{
	const struct service_settings *st = &svc->settings;
	uid_t uid = client_get_peer(c)->uid;
	bool active;

	*r = (struct request_rights){.admin = true, .use_pins = true, .force = true};
	if (!m->admin_only && !m->spends_pin)
		return;
	r->admin = peer_is_admin(svc, c);
	if (r->admin || !m->spends_pin)
		return;
	active = user_is_active_locally(uid);
	r->force = active;
	switch (st->pin_users) {
	case PIN_USERS_ANY:
		r->use_pins = true;
		break;
	case PIN_USERS_GROUP:
		r->use_pins = st->pin_gid != (gid_t)-1 && client_has_group(c, st->pin_gid);
		break;
	case PIN_USERS_ACTIVE:
		r->use_pins = active;
		break;
	}
}

static const char *pin_users_refusal(const struct service *svc)
{
	switch (svc->settings.pin_users) {
	case PIN_USERS_GROUP:
		return "PIN operations are for root, the admin group and the pin_users group";
	case PIN_USERS_ACTIVE:
	case PIN_USERS_ANY:
		break;
	}
	return "PIN operations are for root, the admin group and the user of an active local "
	       "session (pin_users = active)";
}

static void run(struct request *req)
{
	json_object *result = NULL;
	enum request_status st = req->method->run(req, &result);

	if (st != REQUEST_LATER)
		request_complete(req, st, result);
}

/* A request that waits until every module has completed a given scan
 * (svc->pending), or for the next refresh scan (svc->refresh_waiting). */
struct pending {
	struct pending *next;
	struct pending *last; /* the head of refresh_waiting: its tail, for O(1) appends */
	struct request *req;
	struct inventory_wait wait;
};

/* Refresh scans are asked at most this often: the refreshes that come in
 * between all wait for the next one, so N pending cost one scan, and a
 * flood of them cannot keep a worker scanning without a pause. */
#define REFRESH_INTERVAL_USEC 1000000u

/* Appends req to the held requests, waiting for the scans of w (copied),
 * or runs it when they are in already. Held requests wait in arrival
 * order: a new one is checked alone, and the queue from its head after
 * each scan, so N held requests cost N checks, not N². */
static enum request_status wait_for(struct request *req, const struct inventory_wait *w)
{
	struct service *svc = req->svc;
	size_t n = inventory_count_modules(svc->inventory) + 1;
	struct pending *p = calloc(1, sizeof(*p));

	if (!p || !(p->wait.seqs = calloc(n, sizeof(*p->wait.seqs)))) {
		free(p);
		return REQUEST_E_NO_MEMORY;
	}
	memcpy(p->wait.seqs, w->seqs, n * sizeof(*p->wait.seqs));
	if (!inventory_wait_pending(svc->inventory, &p->wait)) {
		inventory_wait_release(&p->wait);
		free(p);
		run(req);
		return REQUEST_LATER;
	}
	request_keep(req);
	p->req = req;
	if (svc->pending_last)
		svc->pending_last->next = p;
	else
		svc->pending = p;
	svc->pending_last = p;
	return REQUEST_LATER;
}

/* One refresh scan for every refresh waiting, then they wait for it. */
static void refresh_now(struct service *svc, uint64_t now)
{
	struct inventory_wait w;
	bool ok = inventory_wait_init(svc->inventory, true, &w) >= 0;
	struct pending *waiting = TAKE_PTR(svc->refresh_waiting);

	svc->last_refresh = now;
	while (waiting) {
		struct pending *p = waiting;
		enum request_status st = REQUEST_E_NO_MEMORY;

		waiting = p->next;
		if (!client_is_connected(p->req->client)) {
			request_free(p->req);
		} else {
			if (ok)
				st = wait_for(p->req, &w); /* takes it: held, or run */
			if (st != REQUEST_LATER)
				request_complete(p->req, st, NULL);
		}
		free(p);
	}
	if (ok)
		inventory_wait_release(&w);
}

static int on_refresh_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	refresh_now(userdata, usec);
	return 0;
}

static enum request_status hold(struct request *req, bool rescan)
{
	struct service *svc = req->svc;
	struct inventory_wait w;
	enum request_status st;
	uint64_t now = 0;
	struct pending *p;

	if (!rescan) {
		if (inventory_wait_init(svc->inventory, false, &w) < 0)
			return REQUEST_E_NO_MEMORY;
		st = wait_for(req, &w);
		inventory_wait_release(&w);
		return st;
	}
	(void)sd_event_now(svc->loop, CLOCK_MONOTONIC, &now);
	/* Not one refresh scan a second yet: this one asks for it now. */
	if (!svc->refresh_waiting &&
	    (svc->last_refresh == 0 || now - svc->last_refresh >= REFRESH_INTERVAL_USEC)) {
		svc->last_refresh = now;
		if (inventory_wait_init(svc->inventory, true, &w) < 0)
			return REQUEST_E_NO_MEMORY;
		st = wait_for(req, &w);
		inventory_wait_release(&w);
		return st;
	}
	/* Else it waits for the next one, with every other refresh until then. */
	p = calloc(1, sizeof(*p));
	if (!p)
		return REQUEST_E_NO_MEMORY;
	if (!svc->refresh_timer &&
	    sd_event_add_time(svc->loop, &svc->refresh_timer, CLOCK_MONOTONIC, UINT64_MAX, 10000u,
			      on_refresh_timer, svc) < 0) {
		free(p);
		return REQUEST_E_NO_MEMORY;
	}
	if (!svc->refresh_waiting) {
		(void)sd_event_source_set_time(svc->refresh_timer,
					       svc->last_refresh + REFRESH_INTERVAL_USEC);
		(void)sd_event_source_set_enabled(svc->refresh_timer, SD_EVENT_ONESHOT);
	}
	/* A reference of its own, as a held request; the request is kept. */
	request_keep(req);
	p->req = req;
	if (svc->refresh_waiting)
		svc->refresh_waiting->last->next = p;
	else
		svc->refresh_waiting = p;
	svc->refresh_waiting->last = p;
	return REQUEST_LATER;
}

void request_table_dispatch(struct client *c, json_object *id, const char *name,
			    json_object *params, void *userdata)
{
	struct service *svc = userdata;
	const struct method *m = request_table_lookup(name, params);
	struct request_rights rights;
	struct request *req;
	char why[160];
	enum request_status st = REQUEST_LATER;
	enum request_policy policy;

	if (!m) {
		client_reply_error(c, id, UKEY_WIRE_UNKNOWN_METHOD, "unknown method");
		return;
	}
	req = request_new(svc, m, c, id, NULL);
	if (!req) {
		client_reply_error(c, id, UKEY_WIRE_INTERNAL, "out of memory");
		return;
	}
	if (!params_check(m->params, params, why, sizeof(why))) {
		req->error_message = why;
		request_complete(req, REQUEST_E_INVALID, NULL);
		return;
	}
	/* A request may be held for a scan, or wait for its job: it keeps only
	 * what its row reads, never what else a line carried (members it
	 * ignores may be megabytes of JSON). */
	if (params_keep(m->params, params, &req->params) < 0) {
		request_complete(req, REQUEST_E_NO_MEMORY, NULL);
		return;
	}
	peer_rights(svc, m, c, &rights);
	policy = request_table_policy(m, inventory_is_ready(svc->inventory), &rights,
				      param_bool(params, "force"));
	switch (policy) {
	case POLICY_REFUSE_PIN_USERS:
	case POLICY_REFUSE_FORCE:
		req->error_message =
			policy == POLICY_REFUSE_FORCE
				? "spending a PIN's final try (force) is for the admin "
				  "group and the user of an active local session"
				: pin_users_refusal(svc);
		/* Which right was missing, for the client to word it. */
		req->error_extra = json_object_new_object();
		if (req->error_extra)
			json_object_object_add(req->error_extra, "reason",
					       json_object_new_string(policy == POLICY_REFUSE_FORCE
									      ? "force"
									      : "pin_users"));
		/* fall through */
	case POLICY_REFUSE_PERMISSION:
		refusals_record(svc->refusals, &req->peer, req->program,
				param_string(params, "serial"), m->audit_operation,
				"permission_denied");
		st = REQUEST_E_PERMISSION;
		break;
	case POLICY_REFUSE_BUSY:
		st = REQUEST_E_BUSY;
		break;
	case POLICY_WAIT_RESCAN:
		st = hold(req, true);
		break;
	case POLICY_WAIT_FIRST_SCAN:
		st = hold(req, false);
		break;
	case POLICY_RUN:
		run(req);
		return;
	}
	if (st != REQUEST_LATER)
		request_complete(req, st, NULL);
}

void request_table_run_pending(struct service *svc)
{
	struct pending **pp = &svc->pending, *prev = NULL;

	while (*pp) {
		struct pending *p = *pp;

		if (inventory_wait_pending(svc->inventory, &p->wait)) {
			prev = p;
			pp = &p->next;
			continue;
		}
		*pp = p->next;
		if (svc->pending_last == p)
			svc->pending_last = prev;
		inventory_wait_release(&p->wait);
		if (client_is_connected(p->req->client))
			run(p->req);
		else
			request_free(p->req);
		free(p);
	}
}

void request_table_drop_pending(struct service *svc)
{
	while (svc->refresh_waiting) {
		struct pending *p = svc->refresh_waiting;
		svc->refresh_waiting = p->next;
		request_free(p->req);
		free(p);
	}
	svc->refresh_timer = sd_event_source_disable_unref(svc->refresh_timer);
	while (svc->pending) {
		struct pending *p = svc->pending;
		svc->pending = p->next;
		if (!svc->pending)
			svc->pending_last = NULL;
		inventory_wait_release(&p->wait);
		request_free(p->req);
		free(p);
	}
}
