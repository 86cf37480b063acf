/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Token work that needs a PIN, run on a backend's worker thread: a common
 * header with what every PIN operation has (the token, the PINs, the
 * outcome, the fresh PIN states), and a per-kind payload around it for
 * what only some need (the self-test's certificates, the private objects
 * read). Whoever makes a job gives it a finish function, called once on
 * the event loop thread when the worker is done with it.
 *
 * Ownership: the loop fills the request part and hands the job to
 * worker_submit(); the backend fills the outcome; the job comes back to
 * the loop, whose finish function frees it with job_free().
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "token.h"
#include "ukey/ukey.h"

struct scan_result;
struct token;
struct ukey_secret;

enum job_kind {
	JOB_CHANGE_PIN,	       /* user login with pin, then the PIN becomes new_pin */
	JOB_UNLOCK_PIN,	       /* SO (admin) login with pin, then the user PIN becomes new_pin */
	JOB_PROBE_DEFAULT_PIN, /* is the user PIN pin (the CA's default)? */
	JOB_READ_PRIVATE,      /* user login with pin, read what only a login shows */
	JOB_SELFTEST,	       /* user login with pin, sign and decrypt with the keys */
};

enum job_outcome {
	JOB_DONE,
	JOB_WRONG_PIN,	   /* the login failed: one try spent */
	JOB_PIN_LOCKED,	   /* locked before or by this attempt */
	JOB_GUARD_REFUSED, /* final try (or, for a probe, any failed try): not attempted */
	JOB_PIN_REFUSED,   /* the token took a PIN given for none (length, characters): no try spent
			    */
	JOB_TOKEN_REMOVED, /* no such token on the backend (any more) */
	JOB_FAILED,	   /* anything else; rv says what */
};

struct job {
	struct job *next; /* in a worker's queue */
	enum job_kind kind;
	char *serial;
	struct token_place place; /* where the worker last saw the token (the worker's) */
	struct ukey_secret *pin;
	struct ukey_secret *new_pin;
	bool force; /* the caller accepts spending the final try */

	/* Filled by the backend. */
	enum job_outcome outcome;
	unsigned long rv;		      /* the backend's own code (CK_RV), for the log */
	enum ukey_pin_state user_pin, so_pin; /* read fresh after the attempt */
	int tries_left;			      /* of the PIN tried, after it, where the token
					       * tells (SKF); -1 unknown */
	bool by_flag; /* a probe answered from the token's own default-PIN flag: no try */
	struct scan_result *scan; /* the backend as it is afterwards (the worker) */

	/* On the loop: called once when the job is back. */
	void (*finish)(struct job *j);
	void *userdata;
	/* Frees userdata with the job: a job dropped unfinished (shutdown)
	 * still releases what it was carrying back. */
	void (*free_userdata)(void *userdata);
	void (*free_payload)(struct job *j);
};

/* A certificate whose key the self-test exercises (its DER and its key's
 * identifier on the token: CKA_ID). */
struct test_cert {
	uint8_t *der, *id;
	size_t der_len, id_len;
};

struct selftest_job {
	struct job job;
	struct test_cert sign_cert, enc_cert; /* filled by the loop; der NULL: none */
	int sign_ok, decrypt_ok;	      /* 1 passed, 0 failed, -1 not run */
};

struct private_read_job {
	struct job job;
	struct token *objects; /* objects[] only, seals parsed */
};

/* A job of one of the kinds without a payload; serial is copied, the
 * secrets are taken (and freed on failure). NULL on ENOMEM or without a
 * PIN. */
struct job *job_new(enum job_kind kind, const char *serial, struct ukey_secret *pin,
		    struct ukey_secret *new_pin, bool force);
struct selftest_job *selftest_job_new(const char *serial, struct ukey_secret *pin, bool force);
struct private_read_job *private_read_job_new(const char *serial, struct ukey_secret *pin,
					      bool force);

/* Wipes the PINs and frees the job, its payload and its scan. NULL is
 * fine. */
void job_free(struct job *j);

static inline void job_freep(struct job **j)
{
	job_free(*j);
}
#define _cleanup_job_ __attribute__((cleanup(job_freep)))

/* A copy of a certificate for the self-test. Returns 0 or -ENOMEM. */
int test_cert_set(struct test_cert *c, const uint8_t *der, size_t der_len, const uint8_t *id,
		  size_t id_len);
