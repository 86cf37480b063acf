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
#include <stdbool.h>
#include <stdint.h>

#include "ukey/ukey.h"

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

/* PIN work, run on the module's thread. The loop fills the request part,
 * the worker the outcome; ownership passes with p11_worker_submit() and
 * comes back with p11_worker_take_jobs(). */
enum p11_job_kind {
	P11_JOB_CHANGE_PIN,    /* user login with pin, then C_SetPIN(pin, new_pin) */
	P11_JOB_UNLOCK,	       /* SO login with pin on a R/W session, then C_InitPIN(new_pin) */
	P11_JOB_PROBE_DEFAULT, /* user login with pin (the CA's default), then logout */
	P11_JOB_READ_PRIVATE,  /* user login with pin, read the private data objects, logout */
	P11_JOB_SELFTEST,      /* user login with pin, sign and decrypt with the keys, logout */
};

/* A certificate whose key the self-test exercises (its DER and CKA_ID). */
struct p11_test_cert {
	uint8_t *der, *id;
	size_t der_len, id_len;
};

enum p11_job_outcome {
	P11_JOB_DONE,
	P11_JOB_WRONG_PIN,     /* the login failed: one try spent */
	P11_JOB_PIN_LOCKED,    /* locked before or by this attempt */
	P11_JOB_GUARD_REFUSED, /* final try (or, for a probe, any failed try): not attempted */
	P11_JOB_TOKEN_REMOVED, /* no such token on the module (any more) */
	P11_JOB_FAILED,	       /* anything else; rv says what */
};

struct ukey_secret;

struct p11_job {
	struct p11_job *next;
	enum p11_job_kind kind;
	char *serial;
	struct ukey_secret *pin;
	struct ukey_secret *new_pin;
	bool force; /* the caller accepts spending the final try */
	void *userdata;
	/* Filled by the worker. */
	enum p11_job_outcome outcome;
	unsigned long rv;
	enum ukey_pin_state user_pin, so_pin;	  /* read fresh after the attempt */
	struct p11_scan_result *scan;		  /* the module as it is afterwards */
	struct token *private_objects;		  /* READ_PRIVATE: objects[] only, seals parsed */
	struct p11_test_cert sign_cert, enc_cert; /* SELFTEST: filled by the loop */
	int sign_ok, decrypt_ok;		  /* SELFTEST: 1 passed, 0 failed, -1 not run */
};

/* Wipes the PINs and frees the job (and its scan, if not taken). */
void p11_job_free(struct p11_job *j);

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

/* An eventfd, readable when the module reported a slot event (a token
 * inserted or removed) through C_WaitForSlotEvent, for modules that can
 * block in it. The caller reads it and asks for a scan. */
int p11_worker_get_slot_event_fd(const struct p11_worker *w);

/* Asks for a fresh scan; returns the seq whose result will reflect it.
 * Requests made while a scan is queued share it. */
uint64_t p11_worker_request_scan(struct p11_worker *w);

/* The newest finished result (older unread ones are dropped), or NULL.
 * The caller owns it. Clears the eventfd. */
struct p11_scan_result *p11_worker_take_result(struct p11_worker *w);

/* Queues a PIN job; jobs run before scans, in order. */
void p11_worker_submit(struct p11_worker *w, struct p11_job *job);

/* The finished jobs, oldest first, or NULL. */
struct p11_job *p11_worker_take_jobs(struct p11_worker *w);
