/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "worker.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backend.h"
#include "job.h"
#include "log.h"
#include "scan-result.h"

struct worker {
	const struct backend_ops *ops;
	char *path;
	const struct ca_profiles *profiles;
	int event_fd;
	int device_event_fd;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* under lock */
	uint64_t requested;
	bool quit;
	struct scan_result *done;
	struct job *jobs, *jobs_done; /* queues, oldest first */

	/* owned by the thread */
	void *state; /* the loaded library, NULL until it loads */
};

static void wake_loop(struct worker *w)
{
	uint64_t one = 1;

	if (write(w->event_fd, &one, sizeof(one)) < 0)
		log_error("%s: cannot wake the event loop: %m", w->path);
}

/* Loads the library if it is not yet: a library that failed to load is
 * tried again at every scan (its file may have been installed since). */
static struct scan_result *worker_scan(struct worker *w)
{
	char *msg = NULL;
	int r;

	if (!w->state) {
		r = w->ops->load(w->path, w->profiles, w->device_event_fd, &w->state, &msg);
		if (r < 0) {
			w->state = NULL;
			return scan_result_new_error(r, msg);
		}
	}
	return w->ops->scan(w->state);
}

static void run_job(struct worker *w, struct job *j)
{
	j->outcome = JOB_TOKEN_REMOVED;
	if (!w->state)
		return;
	switch (j->kind) {
	case JOB_CHANGE_PIN:
		w->ops->change_pin(w->state, j);
		break;
	case JOB_UNLOCK_PIN:
		w->ops->unlock_pin(w->state, j);
		break;
	case JOB_PROBE_DEFAULT_PIN:
		w->ops->probe_default_pin(w->state, j);
		break;
	case JOB_READ_PRIVATE:
		w->ops->read_private(w->state, j);
		break;
	case JOB_SELFTEST:
		w->ops->selftest(w->state, j);
		break;
	}
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	uint64_t done = 0;

	for (;;) {
		struct scan_result *r;
		struct job *job, **tail;
		uint64_t target;

		pthread_mutex_lock(&w->lock);
		while (!w->quit && w->requested == done && !w->jobs)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->quit) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		job = w->jobs;
		if (job)
			w->jobs = job->next;
		target = w->requested;
		pthread_mutex_unlock(&w->lock);

		if (job) {
			job->next = NULL;
			run_job(w, job);
			/* The model learns what the job changed; for libp11 the
			 * re-read also drops the copy of the PIN it keeps. */
			job->scan = worker_scan(w);
			pthread_mutex_lock(&w->lock);
			for (tail = &w->jobs_done; *tail; tail = &(*tail)->next)
				;
			*tail = job;
			pthread_mutex_unlock(&w->lock);
			wake_loop(w);
			continue;
		}

		r = worker_scan(w);
		if (!r)
			continue; /* out of memory: the next request tries again */
		r->seq = target;
		done = target;
		pthread_mutex_lock(&w->lock);
		scan_result_free(w->done);
		w->done = r;
		pthread_mutex_unlock(&w->lock);
		wake_loop(w);
	}
	w->ops->unload(w->state);
	w->state = NULL;
	return NULL;
}

int worker_start(const struct backend_ops *ops, const char *path,
		 const struct ca_profiles *profiles, struct worker **ret_worker)
{
	struct worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->ops = ops;
	w->event_fd = -1;
	w->device_event_fd = -1;
	w->profiles = profiles;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->path = strdup(path);
	if (!w->path) {
		worker_free(w);
		return -ENOMEM;
	}
	w->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->device_event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->event_fd < 0 || w->device_event_fd < 0) {
		r = -errno;
		worker_free(w);
		return r;
	}
	w->requested = 1; /* the initial scan */
	r = pthread_create(&w->thread, NULL, worker_main, w);
	if (r != 0) {
		worker_free(w);
		return -r;
	}
	w->thread_started = true;
	*ret_worker = w;
	return 0;
}

static void free_jobs(struct job *j)
{
	while (j) {
		struct job *next = j->next;
		job_free(j);
		j = next;
	}
}

void worker_free(struct worker *w)
{
	if (!w)
		return;
	if (w->thread_started) {
		pthread_mutex_lock(&w->lock);
		w->quit = true;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
	}
	scan_result_free(w->done);
	free_jobs(w->jobs);
	free_jobs(w->jobs_done);
	if (w->event_fd >= 0)
		close(w->event_fd);
	if (w->device_event_fd >= 0)
		close(w->device_event_fd);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->path);
	free(w);
}

const char *worker_get_path(const struct worker *w)
{
	return w->path;
}

int worker_get_fd(const struct worker *w)
{
	return w->event_fd;
}

int worker_get_device_event_fd(const struct worker *w)
{
	return w->device_event_fd;
}

uint64_t worker_request_scan(struct worker *w)
{
	uint64_t seq;

	pthread_mutex_lock(&w->lock);
	seq = ++w->requested;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return seq;
}

struct scan_result *worker_take_result(struct worker *w)
{
	struct scan_result *r;
	uint64_t v;

	if (read(w->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_error("%s: reading the worker's eventfd failed: %m", w->path);
	pthread_mutex_lock(&w->lock);
	r = w->done;
	w->done = NULL;
	pthread_mutex_unlock(&w->lock);
	return r;
}

void worker_submit(struct worker *w, struct job *job)
{
	struct job **tail;

	job->next = NULL;
	pthread_mutex_lock(&w->lock);
	for (tail = &w->jobs; *tail; tail = &(*tail)->next)
		;
	*tail = job;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

struct job *worker_take_jobs(struct worker *w)
{
	struct job *jobs;

	pthread_mutex_lock(&w->lock);
	jobs = w->jobs_done;
	w->jobs_done = NULL;
	pthread_mutex_unlock(&w->lock);
	return jobs;
}
