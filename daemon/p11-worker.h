/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One worker thread per PKCS#11 module. The thread owns the module: it
 * loads it through libp11, and every PKCS#11 call for its tokens runs on
 * it (libp11 is not thread safe, and a slow token must not stall the event
 * loop). The loop asks for work with p11_worker_request_scan() and learns
 * of results through the worker's eventfd.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct ca_profiles;
struct token;

struct p11_scan_result {
	uint64_t seq;	 /* the request this answers (and all before it) */
	int error;	 /* 0, or a negative errno: the module failed as a whole */
	char *error_msg; /* what failed, for the log */
	struct token **tokens;
	size_t n_tokens;
};

void p11_scan_result_free(struct p11_scan_result *r);

struct p11_worker;

/* Starts the thread, which loads the module and scans once (seq 1).
 * profiles must outlive the worker. Returns 0 or a negative errno. */
int p11_worker_start(const char *module_path, const struct ca_profiles *profiles,
		     struct p11_worker **ret_worker);

/* Stops the thread (after its current PKCS#11 call), unloads the module. */
void p11_worker_free(struct p11_worker *w);

const char *p11_worker_get_module(const struct p11_worker *w);

/* Readable when a result is waiting. */
int p11_worker_get_fd(const struct p11_worker *w);

/* Asks for a fresh scan; returns the seq whose result will reflect it.
 * Requests made while a scan is queued share it. */
uint64_t p11_worker_request_scan(struct p11_worker *w);

/* The newest finished result (older unread ones are dropped), or NULL.
 * The caller owns it. Clears the eventfd. */
struct p11_scan_result *p11_worker_take_result(struct p11_worker *w);
