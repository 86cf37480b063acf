/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Every loaded backend library and the tokens they show: the token cache,
 * kept up to date from the modules' scan results, and the events born of
 * each change (a token added, changed or removed). Also whether ukeyd is
 * ready: every module has answered its first scan, or stalled.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct backend_ops;
struct ca_profiles;
struct inventory;
struct module;
struct scan_result;
struct token;
struct token_cache;
struct token_memory;

struct inventory_callbacks {
	/* A token_added, token_changed or token_removed event (taken). */
	void (*event)(json_object *event, void *userdata);
	/* A module answered or stalled: the cache, readiness or a module's
	 * progress may have changed. */
	void (*progress)(void *userdata);
};

/* A job that comes back from a module is handed to its own finish
 * function (job.h), before progress is called. */

/* profiles and memory outlive the inventory; module_timeout is in
 * seconds. Returns 0 or -ENOMEM. */
int inventory_new(sd_event *loop, const struct ca_profiles *profiles, struct token_memory *memory,
		  unsigned module_timeout, const struct inventory_callbacks *cb, void *userdata,
		  struct inventory **ret);
void inventory_free(struct inventory *inv);

/* Loads a library with a backend, after those added before (its rank).
 * Returns 0 or a negative errno (logged by the caller). */
int inventory_add_module(struct inventory *inv, const struct backend_ops *ops, const char *path);

size_t inventory_count_modules(const struct inventory *inv);
struct module *inventory_get_module(struct inventory *inv, size_t i);

/* The module that reaches a token of the cache, or NULL. */
struct module *inventory_module_of(struct inventory *inv, const struct token *t);

/* The cache (borrowed; valid as long as the inventory). */
struct token_cache *inventory_get_cache(struct inventory *inv);

/* Every module has finished its first scan (or stalled); with no module,
 * at once. Once true, it stays true. */
bool inventory_is_ready(struct inventory *inv);

/* Applies a module's fresh scan (taken): what ukeyd remembers per serial
 * is attached, events are announced, the cache is replaced. For a job's
 * scan as well as a plain one. */
void inventory_apply_scan(struct inventory *inv, struct module *m, struct scan_result *r);

/* A seq per module (inventory_count_modules() of them) to wait for. */
struct inventory_wait {
	uint64_t *seqs;
};

/* Fills w with a fresh full scan of every module (rescan: every token
 * read again) or with their first scans. Returns 0 or -ENOMEM. */
int inventory_wait_init(struct inventory *inv, bool rescan, struct inventory_wait *w);
void inventory_wait_release(struct inventory_wait *w);

/* Whether some module still owes a scan w waits for. */
bool inventory_wait_pending(const struct inventory *inv, const struct inventory_wait *w);
