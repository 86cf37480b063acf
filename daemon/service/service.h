/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the request handlers work with: the inventory below, the data the
 * daemon loaded, and the settings that shape the answers. ukeyd.c fills
 * it; the handlers only read it (and the pending list belongs to the
 * request table).
 */
#pragma once

#include <stdint.h>
#include <sys/types.h>
#include <systemd/sd-event.h>

#include "pin-policy.h"

struct audit;
struct ca_profiles;
struct inventory;
struct pending;
struct pin_request;
struct refusals;
struct token_memory;

/* Who may use tokens' PINs (pin_users), besides root and the admin group. */
enum pin_users {
	PIN_USERS_ACTIVE, /* the user of an active local session (sd-login) */
	PIN_USERS_GROUP,  /* members of a group (pin_gid) */
	PIN_USERS_ANY,	  /* every local user */
};

struct service_settings {
	gid_t admin_gid; /* admin_group: may unlock PINs and read the audit log, with
			  * root; (gid_t)-1 when the group does not exist */
	struct pin_policy pin_policy;
	enum pin_users pin_users;
	gid_t pin_gid; /* PIN_USERS_GROUP's; (gid_t)-1 when the group does not exist */
};

struct service {
	sd_event *loop;
	struct inventory *inventory;
	const struct ca_profiles *profiles;
	struct token_memory *memory;
	struct audit *audit;	   /* the audit log, written and read off the loop */
	struct refusals *refusals; /* refusals in the audit log, rate-limited per user */
	struct service_settings settings;
	struct pending *pending; /* requests waiting for scans: request-table.c */
	struct pending *pending_last;
	/* refresh requests that wait for the next refresh scan: at most one a
	 * second (request-table.c) */
	struct pending *refresh_waiting;
	sd_event_source *refresh_timer;
	uint64_t last_refresh;		  /* CLOCK_MONOTONIC µs of the last refresh scan asked */
	struct pin_request *pin_requests; /* PIN jobs under way, one per token: pin-jobs.c */
};
