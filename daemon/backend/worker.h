/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One worker thread per loaded backend library. The thread owns the
 * library: it loads it, and every call into it runs there (libraries like
 * libp11 are not thread safe, and a slow token must not stall the event
 * loop). The loop asks for scans and hands over PIN jobs; it learns of
 * results through the worker's eventfd. Backend-neutral: what a scan or a
 * job does is the backend's (backend.h).
 */
#pragma once

#include <stdint.h>

struct backend_ops;
struct ca_profiles;
struct job;
struct scan_result;
struct worker;

/* Starts the thread, which loads the library and scans once (seq 1).
 * profiles must outlive the worker. Returns 0 or a negative errno. */
int worker_start(const struct backend_ops *ops, const char *path,
		 const struct ca_profiles *profiles, struct worker **ret_worker);

/* Stops the thread (after its current call into the library) and unloads
 * the library. NULL is fine. */
void worker_free(struct worker *w);

const char *worker_get_path(const struct worker *w);

/* Readable when a result or a finished job is waiting. */
int worker_get_fd(const struct worker *w);

/* Readable when the library reported a device arriving or leaving by
 * itself (where it can). The caller reads it and asks for a scan. */
int worker_get_device_event_fd(const struct worker *w);

/* From the lightest to the strongest: requests made while one is queued
 * share it, as the strongest of them. */
enum worker_scan {
	/* Only places gone and new ones: a chase after a USB device, which
	 * adds or removes a place, asking again and again for little. */
	WORKER_SCAN_PLACES,
	WORKER_SCAN_INCREMENTAL, /* and known tokens whose listing changed */
	WORKER_SCAN_FULL,	 /* read every token again */
	/* Unload and load the library first (C_Finalize, C_Initialize): some
	 * see only the tokens present when they were initialized. */
	WORKER_SCAN_RELOAD,
};

/* Asks for a scan; returns the seq whose complete result will reflect
 * it. While it runs the worker hands on partial views (scan-result.h). */
uint64_t worker_request_scan(struct worker *w, enum worker_scan how);

/* The newest view handed on (older unread ones are superseded), or NULL.
 * The caller owns it. Clears the eventfd. */
struct scan_result *worker_take_result(struct worker *w);

/* Queues a PIN job; jobs run before scans, in order. After each one the
 * worker reads the job's token again and gives the view with the job
 * (job->scan). */
void worker_submit(struct worker *w, struct job *job);

/* The finished jobs, oldest first, linked by next, or NULL. */
struct job *worker_take_jobs(struct worker *w);
