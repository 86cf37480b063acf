/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One loaded backend library, seen from the event loop: its worker, the
 * event sources that bring its results and device events in, and the
 * watchdog that notices when it stops answering. A module owns its event
 * sources; what its results mean is its owner's business (callbacks).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

#include "worker.h"

struct backend_ops;
struct ca_profiles;
struct job;
struct module;
struct scan_result;

struct module_callbacks {
	/* A scan result came in (the callee takes it). */
	void (*scanned)(struct module *m, struct scan_result *r, void *userdata);
	/* A job came back (the callee finishes it). */
	void (*job_done)(struct module *m, struct job *j, void *userdata);
	/* After any answer, and when the module stalls: whoever waits on
	 * modules may look again. */
	void (*progress)(struct module *m, void *userdata);
};

/* Starts the worker, which loads the library and scans once. rank orders
 * modules (the load order); timeout_s is how long it may take to answer
 * before it counts as stalled. Returns 0 or a negative errno. */
int module_new(sd_event *loop, const struct backend_ops *ops, const char *path, unsigned rank,
	       const struct ca_profiles *profiles, unsigned timeout_s,
	       const struct module_callbacks *cb, void *userdata, struct module **ret);

/* Stops the worker and frees; NULL is fine. */
void module_free(struct module *m);

const char *module_get_path(const struct module *m);
unsigned module_get_rank(const struct module *m);

/* Asks for a scan; returns the seq whose completion reflects it. */
uint64_t module_request_scan(struct module *m, enum worker_scan how);

/* Hands a job to the worker. */
void module_submit_job(struct module *m, struct job *j);

/* Whether requests must still wait for scan seq: it is not in yet and
 * the module is not stalled. */
bool module_owes(const struct module *m, uint64_t seq);

/* Whether a scan asked for is not in yet. */
bool module_is_scanning(const struct module *m);

/* Whether a job handed to the worker is not back yet. */
bool module_has_jobs(const struct module *m);

/* Tokens this module's scans have added and removed so far, counted by
 * whoever announces them: the USB chase watches them move. */
void module_count_token(struct module *m, bool added);
uint64_t module_get_token_count(const struct module *m, bool added);
