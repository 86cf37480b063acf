/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * USB arrivals and departures from libusb's hotplug support, delivered on
 * the sd-event loop. libusb's file descriptors join the loop, so no thread
 * of ours polls and an idle daemon does not wake up. libusb calls back from
 * inside its event handling; those callbacks only queue the report, and the
 * handler runs later from a defer source, where it may do anything.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-event.h>

struct usb_hotplug;

struct usb_device_report {
	uint16_t vid, pid;
	uint8_t bus, address;
	bool arrived; /* false: left */
};

typedef void (*usb_hotplug_handler)(const struct usb_device_report *report, void *userdata);

/* Starts watching every USB device (no reports for those already there).
 * Returns 0, -EOPNOTSUPP when libusb has no hotplug support here, or
 * another negative errno. */
int usb_hotplug_new(sd_event *loop, usb_hotplug_handler handler, void *userdata,
		    struct usb_hotplug **ret);

/* Stops watching; reports not yet handled are dropped. NULL is fine. */
void usb_hotplug_free(struct usb_hotplug *h);
