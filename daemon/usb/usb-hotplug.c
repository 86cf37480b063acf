/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "usb-hotplug.h"

#include <errno.h>
#include <libusb.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* Reports beyond this many, queued within one loop iteration, are
 * dropped: a hub of tokens is far below it, and a lost report only costs
 * the rescan the next report would have triggered anyway. */
#define MAX_QUEUED_REPORTS 256

struct watched_fd {
	int fd;
	sd_event_source *src;
};

struct usb_hotplug {
	sd_event *loop;
	libusb_context *ctx;
	libusb_hotplug_callback_handle cb;
	bool cb_registered;
	usb_hotplug_handler handler;
	void *userdata;
	struct watched_fd *fds;
	size_t n_fds;
	sd_event_source *defer;
	struct usb_device_report queue[MAX_QUEUED_REPORTS];
	size_t n_queued;
	size_t n_dropped;
};

static int on_libusb_fd(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	struct usb_hotplug *h = userdata;
	struct timeval zero = {0, 0};

	(void)libusb_handle_events_timeout_completed(h->ctx, &zero, NULL);
	return 0;
}

static void watch_fd(int fd, short events, void *userdata)
{
	struct usb_hotplug *h = userdata;
	struct watched_fd *n;
	int r;

	n = realloc(h->fds, (h->n_fds + 1) * sizeof(*n));
	if (!n) {
		log_error("USB hotplug: out of memory watching libusb's descriptors");
		return;
	}
	h->fds = n;
	n[h->n_fds] = (struct watched_fd){.fd = fd};
	r = sd_event_add_io(h->loop, &n[h->n_fds].src, fd, (uint32_t)(uint16_t)events, on_libusb_fd,
			    h);
	if (r < 0) {
		log_error("USB hotplug: cannot watch a libusb descriptor: %s", strerror(-r));
		return;
	}
	h->n_fds++;
}

static void unwatch_fd(int fd, void *userdata)
{
	struct usb_hotplug *h = userdata;

	for (size_t i = 0; i < h->n_fds; i++) {
		if (h->fds[i].fd != fd)
			continue;
		sd_event_source_disable_unref(h->fds[i].src);
		h->fds[i] = h->fds[--h->n_fds];
		return;
	}
}

static int on_defer(sd_event_source *s, void *userdata)
{
	struct usb_hotplug *h = userdata;
	struct usb_device_report batch[MAX_QUEUED_REPORTS];
	size_t n = h->n_queued;

	/* Copied out first: the handler may run the loop's other work, and
	 * more reports may queue meanwhile. */
	memcpy(batch, h->queue, n * sizeof(*batch));
	h->n_queued = 0;
	if (h->n_dropped > 0) {
		log_warning("USB hotplug: %zu report(s) dropped (queue full)", h->n_dropped);
		h->n_dropped = 0;
	}
	for (size_t i = 0; i < n; i++)
		h->handler(&batch[i], h->userdata);
	return 0;
}

/* Runs inside libusb's event handling: queue only. */
static int LIBUSB_CALL on_hotplug(libusb_context *ctx, libusb_device *dev,
				  libusb_hotplug_event event, void *userdata)
{
	struct usb_hotplug *h = userdata;
	struct libusb_device_descriptor desc;

	/* The descriptor is cached by libusb: no device I/O here. */
	if (libusb_get_device_descriptor(dev, &desc) < 0)
		return 0;
	if (h->n_queued == MAX_QUEUED_REPORTS) {
		h->n_dropped++;
		return 0;
	}
	h->queue[h->n_queued++] = (struct usb_device_report){
		.vid = desc.idVendor,
		.pid = desc.idProduct,
		.bus = libusb_get_bus_number(dev),
		.address = libusb_get_device_address(dev),
		.arrived = event == LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED,
	};
	(void)sd_event_source_set_enabled(h->defer, SD_EVENT_ONESHOT);
	return 0; /* stay registered */
}

int usb_hotplug_new(sd_event *loop, usb_hotplug_handler handler, void *userdata,
		    struct usb_hotplug **ret)
{
	struct usb_hotplug *h = calloc(1, sizeof(*h));
	const struct libusb_pollfd **pfds;
	int r;

	if (!h)
		return -ENOMEM;
	h->loop = sd_event_ref(loop);
	h->handler = handler;
	h->userdata = userdata;
	r = libusb_init(&h->ctx);
	if (r < 0) {
		h->ctx = NULL;
		usb_hotplug_free(h);
		return -EIO;
	}
	if (!libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG) ||
	    !libusb_pollfds_handle_timeouts(h->ctx)) {
		/* Without timerfd libusb would need timeouts from us: not
		 * on Linux, where both exist. */
		usb_hotplug_free(h);
		return -EOPNOTSUPP;
	}
	r = sd_event_add_defer(loop, &h->defer, on_defer, h);
	if (r < 0) {
		usb_hotplug_free(h);
		return r;
	}
	(void)sd_event_source_set_enabled(h->defer, SD_EVENT_OFF);

	libusb_set_pollfd_notifiers(h->ctx, watch_fd, unwatch_fd, h);
	pfds = libusb_get_pollfds(h->ctx);
	if (!pfds) {
		usb_hotplug_free(h);
		return -EIO;
	}
	for (size_t i = 0; pfds[i]; i++)
		watch_fd(pfds[i]->fd, pfds[i]->events, h);
	libusb_free_pollfds(pfds);

	r = libusb_hotplug_register_callback(
		h->ctx, LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT, 0,
		LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
		on_hotplug, h, &h->cb);
	if (r != LIBUSB_SUCCESS) {
		usb_hotplug_free(h);
		return -EIO;
	}
	h->cb_registered = true;
	*ret = h;
	return 0;
}

void usb_hotplug_free(struct usb_hotplug *h)
{
	if (!h)
		return;
	if (h->cb_registered)
		libusb_hotplug_deregister_callback(h->ctx, h->cb);
	for (size_t i = 0; i < h->n_fds; i++)
		sd_event_source_disable_unref(h->fds[i].src);
	free(h->fds);
	h->fds = NULL;
	h->n_fds = 0;
	if (h->ctx) {
		/* libusb_exit() removes its descriptors: no one to tell now. */
		libusb_set_pollfd_notifiers(h->ctx, NULL, NULL, NULL);
		libusb_exit(h->ctx);
	}
	sd_event_source_disable_unref(h->defer);
	sd_event_unref(h->loop);
	free(h);
}
