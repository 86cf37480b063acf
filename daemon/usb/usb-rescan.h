/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What a USB arrival or departure makes ukeyd do. A known token (by
 * VID:PID) arriving or leaving means a rescan of the loaded modules the
 * table maps it to, or of every loaded module when none of those is loaded
 * (an administrator may drive it with another module). A vendor module
 * often sees a token only some time after the USB device appears, and
 * drops it only some time after it goes, so the rescan is repeated with
 * growing delays until one of those modules reports a token added
 * (arrival) or removed (departure), and given up after a few attempts.
 * Duplicate reports of a device share one chase; a departure ends the
 * arrival chase of the same device and starts its own.
 */
#pragma once

#include <systemd/sd-event.h>

struct inventory;
struct known_tokens;
struct usb_device_report;
struct usb_rescan;

/* known and inv outlive the object. Returns 0 or -ENOMEM. */
int usb_rescan_new(sd_event *loop, struct inventory *inv, const struct known_tokens *known,
		   struct usb_rescan **ret);

/* Ends every chase; NULL is fine. */
void usb_rescan_free(struct usb_rescan *u);

/* The hotplug handler (usb-hotplug.h); userdata is the usb_rescan. */
void usb_rescan_on_report(const struct usb_device_report *r, void *userdata);

/* Ends the chases whose change has been seen (after scan results came). */
void usb_rescan_check(struct usb_rescan *u);
