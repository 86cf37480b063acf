/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "p11-backend.h"

#include "device-watch.h"
#include "log.h"
#include "p11-module.h"
#include "p11-pin.h"
#include "p11-scan.h"
#include "util.h"

/* Blocks in C_WaitForSlotEvent; C_Finalize wakes it with an error, as
 * PKCS#11 says, and so ends the watch. */
static int wait_for_slot_event(void *userdata)
{
	CK_FUNCTION_LIST_PTR fl = userdata;
	CK_SLOT_ID slot;

	return fl->C_WaitForSlotEvent(0, &slot, NULL) == CKR_OK ? 0 : -1;
}

/* Follows the module's slot events if it can block in them. Many cannot
 * (SoftHSM), or only without blocking, which would mean polling: those
 * keep to USB hotplug and refresh. */
static void start_slot_events(struct p11_module *m, int event_fd)
{
	CK_SLOT_ID slot;
	CK_RV rv;

	if (!m->fl->C_WaitForSlotEvent)
		return;
	rv = m->fl->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL);
	if (rv != CKR_OK && rv != CKR_NO_EVENT)
		return;
	/* The function list lives in the module's mapping, which stays
	 * (RTLD_NODELETE) even if the watch outlives the module. */
	if (device_watch_start(wait_for_slot_event, m->fl, event_fd, &m->slot_events) == 0)
		log_debug("%s: following its slot events (C_WaitForSlotEvent)", m->path);
}

static int p11_load(const char *path, const struct ca_profiles *profiles, int device_event_fd,
		    void **ret_state, char **ret_error)
{
	struct p11_module *m;
	int r = p11_module_load(path, profiles, &m, ret_error);

	if (r < 0)
		return r;
	start_slot_events(m, device_event_fd);
	*ret_state = m;
	return 0;
}

static void p11_unload(void *state)
{
	struct p11_module *m = state;
	struct device_watch *watch;
	_cleanup_free_ char *path = NULL;

	if (!m)
		return;
	watch = TAKE_PTR(m->slot_events);
	path = TAKE_PTR(m->path);
	/* C_Finalize, in the unload, is what wakes the slot event wait. */
	p11_module_unload(m);
	device_watch_stop(watch, path);
}

const struct backend_ops p11_backend_ops = {
	.name = "pkcs11",
	.load = p11_load,
	.unload = p11_unload,
	.list_places = p11_list_places,
	.read_head = p11_read_head,
	.read_objects = p11_read_objects,
	.change_pin = p11_change_pin,
	.unlock_pin = p11_unlock_pin,
	.probe_default_pin = p11_probe_default_pin,
	.read_private = p11_read_private,
	.selftest = p11_selftest,
};
