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
#include "token-analysis.h"
#include "token.h"
#include "util.h"

/* The tokens of the library as this worker knows them: records it holds
 * references to, for the next scan to compare with. */
struct view {
	struct token **tokens;
	size_t n, cap;
};

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
	uint64_t requested;	  /* seq of the newest scan asked for */
	enum worker_scan pending; /* the strongest kind asked for since the last scan */
	bool quit;
	struct scan_result *done;     /* the newest view handed on, not yet taken */
	uint64_t completed;	      /* seq of the newest complete scan */
	uint64_t views;		      /* views numbered so far (scan_result.view) */
	struct job *jobs, *jobs_done; /* queues, oldest first */

	/* owned by the thread */
	void *state; /* the loaded library, NULL until it loads */
	struct view known;
};

static void view_release(struct view *v)
{
	for (size_t i = 0; i < v->n; i++)
		token_unref(v->tokens[i]);
	free(v->tokens);
	*v = (struct view){0};
}

static int view_copy(struct view *to, const struct view *from)
{
	*to = (struct view){.tokens = calloc(from->n + 1, sizeof(*to->tokens)), .cap = from->n + 1};
	if (!to->tokens)
		return -ENOMEM;
	for (size_t i = 0; i < from->n; i++)
		to->tokens[to->n++] = token_ref(from->tokens[i]);
	return 0;
}

/* Puts t (taken) in the view, replacing the token at its place. */
static int view_set(struct view *v, struct token *t)
{
	for (size_t i = 0; i < v->n; i++)
		if (token_place_equal(&v->tokens[i]->place, &t->place)) {
			token_unref(v->tokens[i]);
			v->tokens[i] = t;
			return 0;
		}
	if (v->n == v->cap) {
		size_t cap = v->cap ? 2 * v->cap : 8;
		struct token **n = realloc(v->tokens, cap * sizeof(*n));
		if (!n) {
			token_unref(t);
			return -ENOMEM;
		}
		v->tokens = n;
		v->cap = cap;
	}
	v->tokens[v->n++] = t;
	return 0;
}

static void view_remove(struct view *v, size_t i)
{
	token_unref(v->tokens[i]);
	memmove(v->tokens + i, v->tokens + i + 1, (v->n - i - 1) * sizeof(*v->tokens));
	v->n--;
}

static void wake_loop(struct worker *w)
{
	uint64_t one = 1;

	if (write(w->event_fd, &one, sizeof(one)) < 0)
		log_error("%s: cannot wake the event loop: %m", w->path);
}

/* Hands the loop a result (taken), superseding one it has not taken yet. */
static void post(struct worker *w, struct scan_result *r, bool final, uint64_t seq)
{
	if (!r)
		return; /* out of memory: the next view will do */
	pthread_mutex_lock(&w->lock);
	if (final && seq > w->completed)
		w->completed = seq;
	r->seq = w->completed;
	r->view = ++w->views;
	r->final = final;
	scan_result_free(w->done);
	w->done = r;
	pthread_mutex_unlock(&w->lock);
	wake_loop(w);
}

/* A result holding references to the view's records. */
static struct scan_result *view_result(const struct view *v)
{
	struct scan_result *r = scan_result_new(v->n);

	for (size_t i = 0; r && i < v->n; i++)
		r->tokens[r->n_tokens++] = token_ref(v->tokens[i]);
	return r;
}

/* The record at a place read afresh: head (unless the caller read it
 * already: head is then taken), objects, analysis. NULL when the place is
 * empty now or the token could not be read (logged). */
static struct token *read_token(struct worker *w, const struct token_place *place,
				struct token *head)
{
	_cleanup_token_ struct token *t = head;
	int r;

	/* A token that cannot be read is left out (the backend said why);
	 * it does not hide the others. */
	if (!t && (w->ops->read_head(w->state, place, &t) < 0 || !t))
		return NULL;
	if (t->initialized) {
		r = w->ops->read_objects(w->state, t);
		if (r >= 0)
			r = token_analyze(t, w->profiles);
		if (r == -ENOMEM)
			log_error("%s: token %s: out of memory reading it", w->path, t->serial);
		if (r < 0)
			return NULL;
	}
	return TAKE_PTR(t);
}

/* Whether v holds a token at place. */
static ssize_t view_find_place(const struct view *v, const struct token_place *place)
{
	for (size_t i = 0; i < v->n; i++)
		if (token_place_equal(&v->tokens[i]->place, place))
			return (ssize_t)i;
	return -1;
}

static bool places_have(const struct token_place *places, size_t n, const struct token_place *p)
{
	for (size_t i = 0; i < n; i++)
		if (token_place_equal(&places[i], p))
			return true;
	return false;
}

/*
 * Brings the view up to date and hands it on after each change, so that a
 * token gone or plugged is announced at once, not after every other token
 * was read: first the places that went away, then new places, then the
 * known ones, whose objects are read again only when their listing
 * changed (or for a full scan). After a reload the places may have been
 * renumbered: the view is only handed on whole, and the cache keeps each
 * token's identity by serial.
 */
static void scan(struct worker *w, enum worker_scan kind, uint64_t seq)
{
	struct token_place *places = NULL;
	bool partial = kind != WORKER_SCAN_RELOAD;
	_cleanup_free_ bool *known_before = NULL;
	struct view v = {0};
	char *msg = NULL;
	size_t n = 0;
	int r = 0;

	if (!w->state &&
	    (r = w->ops->load(w->path, w->profiles, w->device_event_fd, &w->state, &msg)) < 0)
		w->state = NULL;
	if (r >= 0)
		r = w->ops->list_places(w->state, &places, &n, &msg);
	if (r < 0) {
		view_release(&w->known);
		post(w, scan_result_new_error(r, msg), true, seq);
		return;
	}
	/* After a reload the view starts empty: its places may be stale. */
	if (kind != WORKER_SCAN_RELOAD && view_copy(&v, &w->known) < 0)
		goto out;

	/* Gone. */
	for (size_t i = v.n; i-- > 0;) {
		if (places_have(places, n, &v.tokens[i]->place))
			continue;
		view_remove(&v, i);
		if (partial)
			post(w, view_result(&v), false, seq);
	}
	/* Which places held a token already (before any is read below). */
	known_before = calloc(n + 1, sizeof(*known_before));
	if (!known_before)
		goto out;
	for (size_t i = 0; i < n; i++)
		known_before[i] = view_find_place(&v, &places[i]) >= 0;
	/* New, then known: a plugged token is announced before the others
	 * are checked. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < n; i++) {
			ssize_t k = view_find_place(&v, &places[i]);
			struct token *head = NULL, *t;

			if (known_before[i] != (pass == 1) ||
			    (pass == 1 && kind == WORKER_SCAN_PLACES))
				continue;
			if (k >= 0 && kind == WORKER_SCAN_INCREMENTAL) {
				if (w->ops->read_head(w->state, &places[i], &head) < 0 || !head) {
					/* Gone meanwhile, or unreadable (logged). */
					view_remove(&v, (size_t)k);
					if (partial)
						post(w, view_result(&v), false, seq);
					continue;
				}
				if (token_same_head(head, v.tokens[k])) {
					token_unref(head);
					continue; /* unchanged: its record stands */
				}
			}
			t = read_token(w, &places[i], head);
			if (t) {
				if (view_set(&v, t) < 0)
					continue;
			} else if (k >= 0) {
				view_remove(&v, (size_t)k);
			} else {
				continue;
			}
			if (partial)
				post(w, view_result(&v), false, seq);
		}
	view_release(&w->known);
	w->known = v;
	v = (struct view){0};
	post(w, view_result(&w->known), true, seq);
out:
	view_release(&v);
	for (size_t i = 0; i < n; i++)
		free(places[i].name);
	free(places);
}

/* After a job: its own token read again (its PIN state, what the job
 * taught), the others as they were. The result goes with the job. */
static struct scan_result *scan_one(struct worker *w, const char *serial)
{
	struct view v;
	struct token *t;

	if (view_copy(&v, &w->known) < 0)
		return NULL;
	for (size_t i = 0; i < v.n; i++) {
		struct token_place place;

		if (!streq_ptr(v.tokens[i]->serial, serial))
			continue;
		place = v.tokens[i]->place;
		t = read_token(w, &place, NULL);
		if (!t)
			view_remove(&v, i);
		else
			(void)view_set(&v, t);
		break;
	}
	view_release(&w->known);
	w->known = v;
	return view_result(&w->known);
}

static void run_job(struct worker *w, struct job *j)
{
	const struct token *t = NULL;

	j->outcome = JOB_TOKEN_REMOVED;
	for (size_t i = 0; i < w->known.n && !t; i++)
		if (streq_ptr(w->known.tokens[i]->serial, j->serial))
			t = w->known.tokens[i];
	/* The backend goes straight to the token's place: no listing of
	 * every token first. */
	if (!w->state || !t || token_place_copy(&j->place, &t->place) < 0)
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
		struct job *job, **tail;
		enum worker_scan kind;
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
		kind = w->pending;
		if (!job)
			w->pending = WORKER_SCAN_PLACES;
		pthread_mutex_unlock(&w->lock);

		if (job) {
			job->next = NULL;
			run_job(w, job);
			job->scan = scan_one(w, job->serial);
			if (job->scan) {
				job->scan->final = true;
				job->scan->seq = 0; /* answers no scan request */
			}
			pthread_mutex_lock(&w->lock);
			if (job->scan)
				job->scan->view = ++w->views;
			for (tail = &w->jobs_done; *tail; tail = &(*tail)->next)
				;
			*tail = job;
			pthread_mutex_unlock(&w->lock);
			wake_loop(w);
			continue;
		}
		if (kind == WORKER_SCAN_RELOAD && w->state) {
			log_info("%s: re-initializing it, so that it looks for tokens anew",
				 w->path);
			w->ops->unload(w->state);
			w->state = NULL;
		}
		scan(w, kind, target);
		done = target;
	}
	view_release(&w->known);
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
	w->pending = WORKER_SCAN_FULL;
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

uint64_t worker_request_scan(struct worker *w, enum worker_scan how)
{
	uint64_t seq;

	pthread_mutex_lock(&w->lock);
	seq = ++w->requested;
	if (how > w->pending)
		w->pending = how;
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
