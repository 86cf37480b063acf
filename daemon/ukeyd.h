/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon as a whole: its loop, modules, model, server and the
 * requests waiting for a scan. main.c parses arguments into a config and
 * hands it to ukeyd_run(). */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "ca-profiles.h"
#include "config.h"
#include "known-tokens.h"
#include "token-cache.h"
#include "token-json.h"
#include "token.h"

struct server;
struct client;
struct worker;
struct job;
struct scan_result;
struct token_memory;
struct usb_hotplug;
struct usb_chase;
struct usb_device_report;

struct module {
	struct worker *worker;
	sd_event_source *src;
	sd_event_source *slot_event_src; /* the module's C_WaitForSlotEvent reports */
	uint64_t requested;		 /* seq of the newest scan asked for */
	uint64_t completed;		 /* seq of the newest result applied to the model */
	unsigned jobs;			 /* PIN jobs submitted and not yet answered */
	/* Armed while the worker owes an answer; when it fires the module is
	 * stalled: requests stop waiting for it until it answers again. */
	sd_event_source *watchdog;
	bool stalled;
	uint64_t tokens_added, tokens_removed; /* counted as announced */
};

/* A request that waits until every module has completed a given scan. */
struct pending {
	struct pending *next;
	struct client *client;
	json_object *id;
	char *method;
	json_object *params;
	uint64_t *targets; /* one per module */
};

struct ukeyd {
	struct ukeyd_config *cfg;
	sd_event *loop;
	struct server *server;
	struct module *modules;
	size_t n_modules;
	struct token_cache model;
	struct ca_profiles profiles;
	struct expiry_state *expiry;
	struct token_memory *memory;
	char *audit_path;
	sd_event_source *expiry_timer;
	struct pending *pending;
	bool ready; /* every module has finished its first scan (or stalled) */
	struct known_tokens known;
	struct usb_hotplug *hotplug;
	struct usb_chase *usb_chases;
};

/* Runs the daemon until SIGTERM or SIGINT. Returns 0 or a negative errno. */
int ukeyd_run(struct ukeyd_config *cfg);

/* requests.c: the server's request handler (userdata is the ukeyd). */
void requests_dispatch(struct client *c, json_object *id, const char *method, json_object *params,
		       void *userdata);

/* requests.c: answers the pending requests whose scans have completed. */
void requests_run_pending(struct ukeyd *d);

/* requests.c: drops every pending request (shutdown). */
void requests_drop_pending(struct ukeyd *d);

/* requests.c: answers a finished PIN job and frees it. */
void requests_finish_job(struct ukeyd *d, struct job *job);

/* ukeyd.c: applies a module's fresh scan to the model (takes r). */
void ukeyd_apply_scan(struct ukeyd *d, size_t module_index, struct scan_result *r);

/* ukeyd.c: asks module i for a scan and starts its watchdog; returns the
 * seq whose completion reflects it. */
uint64_t ukeyd_request_scan(struct ukeyd *d, size_t i);

/* ukeyd.c: hands a PIN job to module i's worker and starts its watchdog. */
void ukeyd_submit_job(struct ukeyd *d, size_t i, struct job *job);

/* ukeyd.c: whether requests must still wait for module i's scan seq. */
bool ukeyd_module_owes(const struct ukeyd *d, size_t i, uint64_t seq);

/* usb-rescan.c: the hotplug handler: rescans for a known token's arrival
 * or departure, with retries (userdata is the ukeyd). */
void usb_rescan_on_report(const struct usb_device_report *r, void *userdata);

/* usb-rescan.c: ends the chases whose change has been seen (after a scan
 * result is applied). */
void usb_rescan_check(struct ukeyd *d);

/* usb-rescan.c: ends every chase (shutdown). */
void usb_rescan_release(struct ukeyd *d);
