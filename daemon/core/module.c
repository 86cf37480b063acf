/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "module.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job.h"
#include "log.h"
#include "scan-result.h"
#include "util.h"

struct module {
	struct worker *worker;
	unsigned rank;
	unsigned timeout_s;
	sd_event *loop;
	sd_event_source *result_src;
	sd_event_source *device_src;
	/* Armed while the worker owes an answer; when it fires the module is
	 * stalled: requests stop waiting for it until it answers again. */
	sd_event_source *watchdog;
	bool stalled;
	uint64_t requested;    /* seq of the newest scan asked for */
	uint64_t completed;    /* seq of the newest result handed on */
	uint64_t applied_view; /* the newest view given to the cache (scan_result.view) */
	unsigned jobs;	       /* jobs submitted and not yet back */
	uint64_t tokens_added, tokens_removed;
	const struct module_callbacks *cb;
	void *userdata;
};

static bool module_idle(const struct module *m)
{
	return m->completed >= m->requested && m->jobs == 0;
}

static int on_watchdog(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct module *m = userdata;

	m->stalled = true;
	log_error("%s: no answer for %u s: a token or the library hangs in a call. Its tokens are "
		  "served as last read, and requests no longer wait for it",
		  module_get_path(m), m->timeout_s);
	m->cb->progress(m, m->userdata);
	return 0;
}

/* (Re)starts the watchdog: the module owes an answer within timeout_s
 * from now. Nothing runs while every module is idle. */
static void watchdog_arm(struct module *m)
{
	uint64_t usec = (uint64_t)m->timeout_s * 1000000u;
	int r;

	if (!m->watchdog) {
		r = sd_event_add_time_relative(m->loop, &m->watchdog, CLOCK_MONOTONIC, usec,
					       100000u, on_watchdog, m);
		if (r < 0)
			log_error("%s: cannot start its watchdog: %s", module_get_path(m),
				  strerror(-r));
		return;
	}
	(void)sd_event_source_set_time_relative(m->watchdog, usec);
	(void)sd_event_source_set_enabled(m->watchdog, SD_EVENT_ONESHOT);
}

/* After an answer: progress, so the watchdog starts over, or stops when
 * nothing more is owed. */
static void answered(struct module *m)
{
	if (m->stalled) {
		m->stalled = false;
		log_info("%s: answering again", module_get_path(m));
	}
	if (module_idle(m))
		(void)sd_event_source_set_enabled(m->watchdog, SD_EVENT_OFF);
	else
		watchdog_arm(m);
}

static int on_worker_result(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct module *m = userdata;
	struct scan_result *r = worker_take_result(m->worker);
	struct job *jobs;

	/* A job's view and the scans' reach the loop by two ways: whichever
	 * is older than what the cache has is dropped, never applied over it
	 * (a token pulled out right after a PIN change would come back). */
	if (r) {
		m->completed = r->seq;
		if (r->view > m->applied_view) {
			m->applied_view = r->view;
			m->cb->scanned(m, r, m->userdata);
		} else {
			scan_result_free(r);
		}
	}
	jobs = worker_take_jobs(m->worker);
	while (jobs) {
		struct job *next = jobs->next;

		m->jobs--;
		if (jobs->scan && jobs->scan->view < m->applied_view) {
			/* What the job taught is remembered when it is answered;
			 * the next scan attaches it to the newer records. */
			scan_result_free(TAKE_PTR(jobs->scan));
			module_request_scan(m, WORKER_SCAN_INCREMENTAL);
		} else if (jobs->scan) {
			m->applied_view = jobs->scan->view;
		}
		m->cb->job_done(m, jobs, m->userdata);
		jobs = next;
	}
	answered(m);
	m->cb->progress(m, m->userdata);
	return 0;
}

/* The library says a device came or went: rescan. A scan still queued is
 * shared; one already running may have missed the change, so another
 * follows it. */
static int on_device_event(sd_event_source *src, int fd, uint32_t revents, void *userdata)
{
	struct module *m = userdata;
	uint64_t v;

	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return 0;
	log_debug("%s: device event", module_get_path(m));
	module_request_scan(m, WORKER_SCAN_INCREMENTAL);
	return 0;
}

int module_new(sd_event *loop, const struct backend_ops *ops, const char *path, unsigned rank,
	       const struct ca_profiles *profiles, unsigned timeout_s,
	       const struct module_callbacks *cb, void *userdata, struct module **ret)
{
	struct module *m = calloc(1, sizeof(*m));
	int r;

	if (!m)
		return -ENOMEM;
	m->loop = sd_event_ref(loop);
	m->rank = rank;
	m->timeout_s = timeout_s;
	m->cb = cb;
	m->userdata = userdata;
	r = worker_start(ops, path, profiles, &m->worker);
	if (r >= 0)
		r = sd_event_add_io(loop, &m->result_src, worker_get_fd(m->worker), EPOLLIN,
				    on_worker_result, m);
	if (r >= 0)
		r = sd_event_add_io(loop, &m->device_src, worker_get_device_event_fd(m->worker),
				    EPOLLIN, on_device_event, m);
	if (r < 0) {
		module_free(m);
		return r;
	}
	m->requested = 1; /* the worker's initial scan */
	watchdog_arm(m);
	*ret = m;
	return 0;
}

void module_free(struct module *m)
{
	if (!m)
		return;
	sd_event_source_disable_unref(m->result_src);
	sd_event_source_disable_unref(m->device_src);
	sd_event_source_disable_unref(m->watchdog);
	worker_free(m->worker);
	sd_event_unref(m->loop);
	free(m);
}

const char *module_get_path(const struct module *m)
{
	return worker_get_path(m->worker);
}

unsigned module_get_rank(const struct module *m)
{
	return m->rank;
}

uint64_t module_request_scan(struct module *m, enum worker_scan how)
{
	if (module_idle(m))
		watchdog_arm(m);
	m->requested = worker_request_scan(m->worker, how);
	return m->requested;
}

void module_submit_job(struct module *m, struct job *j)
{
	if (module_idle(m))
		watchdog_arm(m);
	m->jobs++;
	worker_submit(m->worker, j);
}

bool module_owes(const struct module *m, uint64_t seq)
{
	return m->completed < seq && !m->stalled;
}

bool module_is_scanning(const struct module *m)
{
	return m->completed < m->requested;
}

bool module_has_jobs(const struct module *m)
{
	return m->jobs > 0;
}

void module_count_token(struct module *m, bool added)
{
	if (added)
		m->tokens_added++;
	else
		m->tokens_removed++;
}

uint64_t module_get_token_count(const struct module *m, bool added)
{
	return added ? m->tokens_added : m->tokens_removed;
}
