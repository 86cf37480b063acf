/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "usb-rescan.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "inventory.h"
#include "known-tokens.h"
#include "log.h"
#include "module.h"
#include "usb-hotplug.h"
#include "util.h"

/* When to rescan, in ms after the report. A USB token arriving or leaving
 * adds or removes a place (a slot with a token), so a rescan only looks
 * for places gone or new: cheap (a token's listing would cost a device
 * call each), so it is asked often at first, when a module that sees a
 * token late most likely does. At 1 s a module that still shows no
 * arrival is re-initialized. */
static const unsigned retry_at_ms[] = {0, 100, 200, 300, 500, 700, 1000, 1500, 3000, 6000, 12000};
#define MAX_ATTEMPTS (sizeof(retry_at_ms) / sizeof(retry_at_ms[0]))
#define RELOAD_AT_MS 1000u
#define GIVE_UP_AFTER_LAST_MS 4000u

struct usb_rescan {
	sd_event *loop;
	struct inventory *inv;
	const struct known_tokens *known;
	struct usb_chase *chases;
};

struct usb_chase {
	struct usb_chase *next;
	struct usb_rescan *u;
	struct usb_device_report report;
	const struct known_token *known;
	bool *targets;	    /* per module */
	uint64_t *baseline; /* per module: its added (or removed) count at the report */
	bool *reloaded;	    /* per module: re-initialized for this arrival */
	unsigned attempts;
	sd_event_source *timer;
};

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* A module candidate names a file ("libcastle.so.1.0.0") or a path. */
static bool module_matches(const char *loaded, const char *candidate)
{
	return strchr(candidate, '/') ? strcmp(loaded, candidate) == 0
				      : strcmp(base_name(loaded), candidate) == 0;
}

/* Marks the modules to rescan; returns how many were mapped by the table
 * (its PKCS#11 module and SKF library candidates). */
static size_t pick_targets(struct inventory *inv, const struct known_token *k, bool *targets)
{
	size_t mapped = 0, n = inventory_count_modules(inv);

	for (size_t i = 0; i < n; i++) {
		const char *loaded = module_get_path(inventory_get_module(inv, i));
		for (size_t c = 0; c < k->n_modules && !targets[i]; c++)
			targets[i] = module_matches(loaded, k->modules[c]);
		for (size_t c = 0; c < k->n_skf && !targets[i]; c++)
			targets[i] = module_matches(loaded, k->skf[c]);
		mapped += targets[i];
	}
	if (mapped == 0)
		for (size_t i = 0; i < n; i++)
			targets[i] = true;
	return mapped;
}

static bool chase_done(const struct usb_chase *c)
{
	struct inventory *inv = c->u->inv;

	for (size_t i = 0; i < inventory_count_modules(inv); i++)
		if (c->targets[i] && module_get_token_count(inventory_get_module(inv, i),
							    c->report.arrived) != c->baseline[i])
			return true;
	return false;
}

static void chase_unlink_free(struct usb_chase *c)
{
	struct usb_chase **pp;

	for (pp = &c->u->chases; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	sd_event_source_disable_unref(c->timer);
	free(c->targets);
	free(c->baseline);
	free(c->reloaded);
	free(c);
}

/* Asks the target modules for a scan. One asked while it still scans gets
 * one more after it (the running one may have listed the places before
 * the token came); requests never pile up beyond that. A module that
 * still shows no new token about a second after an arrival may be one
 * that sees only the tokens present when it was initialized (SoftHSM is
 * one, some vendor modules too): it is re-initialized, once, when no PIN
 * job is in flight on it. */
static void chase_rescan(struct usb_chase *c)
{
	struct inventory *inv = c->u->inv;
	bool late = c->report.arrived && retry_at_ms[c->attempts] >= RELOAD_AT_MS;

	for (size_t i = 0; i < inventory_count_modules(inv); i++) {
		struct module *m = inventory_get_module(inv, i);
		if (!c->targets[i])
			continue;
		if (late && !c->reloaded[i] && !module_has_jobs(m)) {
			c->reloaded[i] = true;
			log_info(
				"%s: still no new token after a USB token arrived; re-initializing "
				"it (some modules see only the tokens present when they started)",
				module_get_path(m));
			module_request_scan(m, WORKER_SCAN_RELOAD);
			continue;
		}
		module_request_scan(m, WORKER_SCAN_PLACES);
	}
	c->attempts++;
}

static int on_chase_timer(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct usb_chase *c = userdata;
	const struct usb_device_report *r = &c->report;

	if (chase_done(c)) {
		chase_unlink_free(c);
		return 0;
	}
	if (c->attempts >= MAX_ATTEMPTS) {
		if (r->arrived)
			log_warning("USB token %s %s (%04x:%04x) at bus %u address %u: no loaded "
				    "library shows a new token; is its PKCS#11 module (%s) or SKF "
				    "library (%s) configured?",
				    c->known->vendor, c->known->product, r->vid, r->pid, r->bus,
				    r->address,
				    c->known->n_modules ? c->known->modules[0] : "unknown",
				    c->known->n_skf ? c->known->skf[0] : "unknown");
		else
			log_debug("USB token %04x:%04x left; no served token went with it", r->vid,
				  r->pid);
		chase_unlink_free(c);
		return 0;
	}
	chase_rescan(c);
	/* After the last rescan, time for it to finish before giving up. */
	(void)sd_event_source_set_time_relative(
		s, (uint64_t)(c->attempts < MAX_ATTEMPTS
				      ? retry_at_ms[c->attempts] - retry_at_ms[c->attempts - 1]
				      : GIVE_UP_AFTER_LAST_MS) *
			   1000u);
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

static struct usb_chase *find_chase(struct usb_rescan *u, const struct usb_device_report *r)
{
	for (struct usb_chase *c = u->chases; c; c = c->next)
		if (c->report.bus == r->bus && c->report.address == r->address)
			return c;
	return NULL;
}

void usb_rescan_on_report(const struct usb_device_report *r, void *userdata)
{
	struct usb_rescan *u = userdata;
	const struct known_token *k = known_tokens_find(u->known, r->vid, r->pid);
	size_t n = inventory_count_modules(u->inv);
	struct usb_chase *c;
	size_t mapped;

	if (!k) {
		log_debug("USB device %04x:%04x %s: not a known token", r->vid, r->pid,
			  r->arrived ? "arrived" : "left");
		return;
	}
	c = find_chase(u, r);
	if (c && c->report.arrived == r->arrived)
		return; /* a duplicate report: that chase is on it */
	if (c)
		chase_unlink_free(c);

	c = calloc(1, sizeof(*c));
	if (!c || !(c->targets = calloc(n + 1, sizeof(*c->targets))) ||
	    !(c->baseline = calloc(n + 1, sizeof(*c->baseline))) ||
	    !(c->reloaded = calloc(n + 1, sizeof(*c->reloaded))) ||
	    sd_event_add_time_relative(u->loop, &c->timer, CLOCK_MONOTONIC,
				       (uint64_t)retry_at_ms[1] * 1000u, 0, on_chase_timer,
				       c) < 0) {
		log_error("USB token %04x:%04x: cannot follow it (out of memory); use "
			  "\"ukeyctl refresh\"",
			  r->vid, r->pid);
		if (c) {
			free(c->targets);
			free(c->baseline);
			free(c->reloaded);
		}
		free(c);
		return;
	}
	c->u = u;
	c->report = *r;
	c->known = k;
	mapped = pick_targets(u->inv, k, c->targets);
	for (size_t i = 0; i < n; i++)
		c->baseline[i] =
			module_get_token_count(inventory_get_module(u->inv, i), r->arrived);
	c->next = u->chases;
	u->chases = c;
	log_info("USB token %s %s (%04x:%04x) %s at bus %u address %u; rescanning %s", k->vendor,
		 k->product, r->vid, r->pid, r->arrived ? "arrived" : "left", r->bus, r->address,
		 mapped ? "its modules" : "every module");
	chase_rescan(c);
}

void usb_rescan_check(struct usb_rescan *u)
{
	struct usb_chase *c, *next;

	for (c = u ? u->chases : NULL; c; c = next) {
		next = c->next;
		if (chase_done(c))
			chase_unlink_free(c);
	}
}

int usb_rescan_new(sd_event *loop, struct inventory *inv, const struct known_tokens *known,
		   struct usb_rescan **ret)
{
	struct usb_rescan *u = calloc(1, sizeof(*u));

	if (!u)
		return -ENOMEM;
	u->loop = sd_event_ref(loop);
	u->inv = inv;
	u->known = known;
	*ret = u;
	return 0;
}

void usb_rescan_free(struct usb_rescan *u)
{
	if (!u)
		return;
	while (u->chases)
		chase_unlink_free(u->chases);
	sd_event_unref(u->loop);
	free(u);
}
