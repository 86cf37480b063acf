/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "skf-backend.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "device-watch.h"
#include "log.h"
#include "skf-lib.h"
#include "skf-names.h"
#include "skf-pin.h"
#include "skf-scan.h"
#include "util.h"

/* What the device-event thread holds: the wait function (in the
 * library's mapping, which stays) and our own stop flag, since a library
 * may forget a cancel made before the wait began. Owned by the watch. */
struct skf_watch {
	skf_WaitForDevEvent_fn *wait;
	atomic_bool stop;
	char *path;
};

static void watch_free(void *userdata)
{
	struct skf_watch *w = userdata;

	free(w->path);
	free(w);
}

/* Blocks in SKF_WaitForDevEvent. A device in or out is an event (the
 * loop rescans the library); a cancel or any failure ends the watch. */
static int wait_dev_event(void *userdata)
{
	struct skf_watch *w = userdata;
	/* A name as long as any the library lists, its NUL, and room: a short
	 * buffer would leave the event pending and the next wait return at
	 * once. */
	char name[SKF_NAME_MAX + 2] = {0};
	skf_out32 len = {.wide = 0}, event = {.wide = 0};
	ULONG rv;

	if (atomic_load(&w->stop))
		return -1;
	len.v = sizeof(name);
	rv = w->wait(name, &len.v, &event.v);
	if (atomic_load(&w->stop))
		return -1;
	/* A device in or out, named: anything else from a call that did not
	 * block would turn this thread into a busy loop. */
	if (rv == SAR_OK && len.v > 0 && len.v <= sizeof(name) &&
	    (event.v == SKF_DEV_EVENT_INSERTED || event.v == SKF_DEV_EVENT_REMOVED)) {
		log_debug("%s: device %s", w->path,
			  event.v == SKF_DEV_EVENT_INSERTED ? "inserted" : "removed");
		return 0;
	}
	if (rv == SAR_OK)
		rv = SKF_RV_BAD_DATA;
	log_warning("%s: SKF_WaitForDevEvent failed (%s); its devices are followed through USB "
		    "hotplug and refresh from now on",
		    w->path, skf_rv_text(rv));
	return -1;
}

/* Follows the library's device events where it can block in them and be
 * woken from them. */
static void start_dev_events(struct skf_lib *l, int event_fd)
{
	struct skf_watch *w;

	if (!l->fn.WaitForDevEvent || !l->fn.CancelWaitForDevEvent)
		return;
	w = calloc(1, sizeof(*w));
	if (!w || !(w->path = strdup(l->path))) {
		free(w);
		return;
	}
	w->wait = l->fn.WaitForDevEvent;
	atomic_init(&w->stop, false);
	if (device_watch_start(wait_dev_event, w, watch_free, event_fd, &l->watch) < 0)
		return;
	l->watch_state = w;
	log_debug("%s: following its device events (SKF_WaitForDevEvent)", l->path);
}

static int skf_load(const char *path, const struct ca_profiles *profiles, int device_event_fd,
		    void **ret_state, char **ret_error)
{
	struct skf_lib *l;
	int r = skf_lib_load(path, profiles, &l, ret_error);

	if (r < 0)
		return r;
	start_dev_events(l, device_event_fd);
	*ret_state = l;
	return 0;
}

static void skf_unload(void *state)
{
	struct skf_lib *l = state;
	struct device_watch *watch;
	_cleanup_free_ char *path = NULL;

	if (!l)
		return;
	watch = TAKE_PTR(l->watch);
	if (watch) {
		/* The flag first: a wait that begins after the cancel, which
		 * the library may not remember, does not begin at all. */
		atomic_store(&l->watch_state->stop, true);
		(void)l->fn.CancelWaitForDevEvent();
		path = strdup(l->path);
		device_watch_stop(watch, path ? path : "SKF library");
	}
	l->watch_state = NULL;
	skf_lib_unload(l);
}

const struct backend_ops skf_backend_ops = {
	.name = "skf",
	.load = skf_load,
	.unload = skf_unload,
	.list_places = skf_list_places,
	.read_head = skf_read_head,
	.read_objects = skf_read_objects,
	.change_pin = skf_change_pin,
	.unlock_pin = skf_unlock_pin,
	.probe_default_pin = skf_probe_default_pin,
	.read_private = skf_read_private,
	.selftest = skf_selftest,
};
