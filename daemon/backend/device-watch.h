/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A thread that blocks in a library's own "wait for a device event" call
 * (PKCS#11 C_WaitForSlotEvent, SKF_WaitForDevEvent) and writes to an
 * eventfd for each event, so the event loop rescans. A backend starts it
 * once its library is loaded; to stop it, the backend first wakes the wait
 * the library's way (C_Finalize, SKF_CancelWaitForDevEvent), then calls
 * device_watch_stop(). A wait that does not return is left behind with a
 * warning: it holds nothing of the caller's but a copy of the eventfd.
 */
#pragma once

struct device_watch;

/* Blocks until a device event (returns 0) or until woken for good, or on
 * any error (returns a negative value: the thread ends, never a busy
 * loop). Called on the watch's thread. */
typedef int (*device_wait_fn)(void *userdata);

/* Starts the thread. userdata must stay valid while the thread may run
 * (it may outlive device_watch_stop() if the wait never returns). Returns
 * 0 or a negative errno. */
int device_watch_start(device_wait_fn wait, void *userdata, int event_fd,
		       struct device_watch **ret);

/* Joins the thread after its wait was woken, waiting 2 s at most; a thread
 * still waiting then is detached, and what names the library is logged.
 * NULL is fine. */
void device_watch_stop(struct device_watch *w, const char *what);
