/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a USB arrival or departure makes ukeyd do. A known token (by
 * VID:PID) arriving or leaving means a rescan of the loaded modules the
 * table maps it to, or of every loaded module when none of those is loaded
 * (an administrator may drive it with another module). A vendor module
 * often sees a token only some time after the USB device appears, and
 * drops it only some time after it goes, so the rescan is repeated with
 * growing delays until one of those modules reports a token added
 * (arrival) or removed (departure), and given up after MAX_ATTEMPTS.
 * Duplicate reports of a device share one chase; a departure ends the
 * arrival chase of the same device and starts its own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "job.h"
#include "p11-backend.h"
#include "scan-result.h"
#include "worker.h"
#include "ukeyd.h"
#include "usb-hotplug.h"
#include "util.h"

/* Rescans at 0, 0.25, 0.75, 1.75, 3.75, 7.75 and 15.75 s after the report. */
#define FIRST_RETRY_USEC 250000u
#define MAX_ATTEMPTS 7u

struct usb_chase {
	struct usb_chase *next;
	struct ukeyd *d;
	struct usb_device_report report;
	const struct known_token *known;
	bool *targets;	    /* per module */
	uint64_t *baseline; /* per module: its added (or removed) count at the report */
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

/* Marks the modules to rescan; returns how many were mapped by the table. */
static size_t pick_targets(struct ukeyd *d, const struct known_token *k, bool *targets)
{
	size_t mapped = 0;

	for (size_t i = 0; i < d->n_modules; i++) {
		const char *loaded = worker_get_path(d->modules[i].worker);
		for (size_t c = 0; c < k->n_modules && !targets[i]; c++)
			targets[i] = module_matches(loaded, k->modules[c]);
		mapped += targets[i];
	}
	if (mapped == 0)
		for (size_t i = 0; i < d->n_modules; i++)
			targets[i] = true;
	return mapped;
}

static uint64_t module_count(const struct module *m, bool arrived)
{
	return arrived ? m->tokens_added : m->tokens_removed;
}

static bool chase_done(const struct usb_chase *c)
{
	for (size_t i = 0; i < c->d->n_modules; i++)
		if (c->targets[i] &&
		    module_count(&c->d->modules[i], c->report.arrived) != c->baseline[i])
			return true;
	return false;
}

static void chase_unlink_free(struct usb_chase *c)
{
	struct usb_chase **pp;

	for (pp = &c->d->usb_chases; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	sd_event_source_disable_unref(c->timer);
	free(c->targets);
	free(c->baseline);
	free(c);
}

/* Asks the target modules for a scan, except those still busy with the
 * previous one: a slow token must not pile up requests. */
static void chase_rescan(struct usb_chase *c)
{
	for (size_t i = 0; i < c->d->n_modules; i++)
		if (c->targets[i] && c->d->modules[i].completed >= c->d->modules[i].requested)
			ukeyd_request_scan(c->d, i);
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
			log_warning("USB token %s %s (%04x:%04x) at bus %u address %u: no PKCS#11 "
				    "module shows a new token; is its module (%s) configured?",
				    c->known->vendor, c->known->product, r->vid, r->pid, r->bus,
				    r->address,
				    c->known->n_modules ? c->known->modules[0] : "unknown");
		else
			log_debug("USB token %04x:%04x left; no served token went with it", r->vid,
				  r->pid);
		chase_unlink_free(c);
		return 0;
	}
	chase_rescan(c);
	(void)sd_event_source_set_time_relative(s, (uint64_t)FIRST_RETRY_USEC << (c->attempts - 1));
	(void)sd_event_source_set_enabled(s, SD_EVENT_ONESHOT);
	return 0;
}

static struct usb_chase *find_chase(struct ukeyd *d, const struct usb_device_report *r)
{
	for (struct usb_chase *c = d->usb_chases; c; c = c->next)
		if (c->report.bus == r->bus && c->report.address == r->address)
			return c;
	return NULL;
}

void usb_rescan_on_report(const struct usb_device_report *r, void *userdata)
{
	struct ukeyd *d = userdata;
	const struct known_token *k = known_tokens_find(&d->known, r->vid, r->pid);
	struct usb_chase *c;
	size_t mapped;

	if (!k) {
		log_debug("USB device %04x:%04x %s: not a known token", r->vid, r->pid,
			  r->arrived ? "arrived" : "left");
		return;
	}
	c = find_chase(d, r);
	if (c && c->report.arrived == r->arrived)
		return; /* a duplicate report: that chase is on it */
	if (c)
		chase_unlink_free(c);

	c = calloc(1, sizeof(*c));
	if (!c || !(c->targets = calloc(d->n_modules + 1, sizeof(*c->targets))) ||
	    !(c->baseline = calloc(d->n_modules + 1, sizeof(*c->baseline))) ||
	    sd_event_add_time_relative(d->loop, &c->timer, CLOCK_MONOTONIC, FIRST_RETRY_USEC, 0,
				       on_chase_timer, c) < 0) {
		log_error("USB token %04x:%04x: cannot follow it (out of memory); use "
			  "\"ukeyctl refresh\"",
			  r->vid, r->pid);
		if (c) {
			free(c->targets);
			free(c->baseline);
		}
		free(c);
		return;
	}
	c->d = d;
	c->report = *r;
	c->known = k;
	mapped = pick_targets(d, k, c->targets);
	for (size_t i = 0; i < d->n_modules; i++)
		c->baseline[i] = module_count(&d->modules[i], r->arrived);
	c->next = d->usb_chases;
	d->usb_chases = c;
	log_info("USB token %s %s (%04x:%04x) %s at bus %u address %u; rescanning %s", k->vendor,
		 k->product, r->vid, r->pid, r->arrived ? "arrived" : "left", r->bus, r->address,
		 mapped ? "its modules" : "every module");
	chase_rescan(c);
}

void usb_rescan_check(struct ukeyd *d)
{
	struct usb_chase *c = d->usb_chases, *next;

	for (; c; c = next) {
		next = c->next;
		if (chase_done(c))
			chase_unlink_free(c);
	}
}

void usb_rescan_release(struct ukeyd *d)
{
	while (d->usb_chases)
		chase_unlink_free(d->usb_chases);
}
