/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "device-watch.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

struct device_watch {
	pthread_t thread;
	device_wait_fn wait;
	void *userdata;
	int event_fd; /* our own copy: the thread may outlive its starter */
	/* The thread and device_watch_stop() both drop one: the last frees. */
	atomic_int refs;
};

static void watch_unref(struct device_watch *w)
{
	if (atomic_fetch_sub(&w->refs, 1) != 1)
		return;
	close(w->event_fd);
	free(w);
}

static void *watch_main(void *arg)
{
	struct device_watch *w = arg;
	uint64_t one = 1;

	while (w->wait(w->userdata) == 0)
		if (write(w->event_fd, &one, sizeof(one)) < 0)
			break;
	watch_unref(w);
	return NULL;
}

int device_watch_start(device_wait_fn wait, void *userdata, int event_fd, struct device_watch **ret)
{
	struct device_watch *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->wait = wait;
	w->userdata = userdata;
	w->event_fd = fcntl(event_fd, F_DUPFD_CLOEXEC, 3);
	if (w->event_fd < 0) {
		r = -errno;
		free(w);
		return r;
	}
	atomic_init(&w->refs, 2);
	r = pthread_create(&w->thread, NULL, watch_main, w);
	if (r != 0) {
		close(w->event_fd);
		free(w);
		return -r;
	}
	*ret = w;
	return 0;
}

void device_watch_stop(struct device_watch *w, const char *what)
{
	struct timespec deadline;

	if (!w)
		return;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 2;
	if (pthread_timedjoin_np(w->thread, NULL, &deadline) != 0) {
		log_warning("%s: still waiting for device events after being told to stop; left "
			    "behind",
			    what);
		pthread_detach(w->thread);
	}
	watch_unref(w);
}
