/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "p11-pin.h"

#include <openssl/err.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "p11-module.h"
#include "p11-read.h"
#include "p11-selftest.h"
#include "secret.h"
#include "token-analysis.h"
#include "token.h"
#include "util.h"

static enum job_outcome outcome_of(CK_RV rv)
{
	switch (rv) {
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
		return JOB_WRONG_PIN;
	case CKR_PIN_LOCKED:
		return JOB_PIN_LOCKED;
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_SLOT_ID_INVALID:
		return JOB_TOKEN_REMOVED;
	default:
		return JOB_FAILED;
	}
}

/* A failure after the login: the token went away, or something else. */
static enum job_outcome removed_or_failed(CK_RV rv)
{
	return outcome_of(rv) == JOB_TOKEN_REMOVED ? JOB_TOKEN_REMOVED : JOB_FAILED;
}

/* Refuses, before any login, what would spend a try the caller did not
 * agree to spend. Returns JOB_DONE when the attempt may go ahead. */
static enum job_outcome lockout_guard(const struct job *j, CK_FLAGS flags)
{
	bool so = j->kind == JOB_UNLOCK_PIN;

	if (flags & (so ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED))
		return JOB_PIN_LOCKED;
	/* A probe is a guess: never while any try has failed. */
	if (j->kind == JOB_PROBE_DEFAULT_PIN &&
	    (flags & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY)))
		return JOB_GUARD_REFUSED;
	if (!j->force && (flags & (so ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY)))
		return JOB_GUARD_REFUSED;
	return JOB_DONE;
}

/* The private data objects, seen only while logged in (the login is the
 * token's, so a session of our own sees them too). */
static CK_RV read_private_objects(struct p11_module *m, CK_SLOT_ID id, struct private_read_job *j)
{
	CK_SESSION_HANDLE s;
	CK_RV rv;

	j->objects = calloc(1, sizeof(*j->objects));
	if (!j->objects || !(j->objects->module = strdup(m->path)) ||
	    !(j->objects->serial = strdup(j->job.serial)))
		return CKR_HOST_MEMORY;
	rv = m->fl->C_OpenSession(id, CKF_SERIAL_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK)
		return rv;
	rv = p11_read_session_private_data(m->fl, s, j->objects);
	m->fl->C_CloseSession(s);
	if (rv == CKR_OK && token_find_seals(j->objects) < 0)
		rv = CKR_HOST_MEMORY;
	return rv;
}

/* What a job does between its login and its logout; NULL for a probe,
 * whose login is all it does. Sets j->outcome (and rv) on failure. */
typedef void (*logged_in_fn)(struct p11_module *m, PKCS11_SLOT *slot, CK_SLOT_ID id, struct job *j);

/* One login, never retried, then the operation. */
static void with_login(struct p11_module *m, struct job *j, logged_in_fn op)
{
	bool so = j->kind == JOB_UNLOCK_PIN;
	CK_TOKEN_INFO info;
	PKCS11_SLOT *slot;
	CK_SLOT_ID id;
	CK_RV rv;

	j->outcome = JOB_TOKEN_REMOVED;
	/* libp11's slots are enumerated for the job alone, and released after
	 * it: with them goes the copy of the PIN libp11 keeps after a login. */
	p11_module_refresh_slots(m);
	slot = p11_module_find_slot(m, j->serial);
	if (!slot)
		goto release;
	id = PKCS11_get_slotid_from_slot(slot);
	/* Fresh flags: libp11's copy is as old as the last enumeration. */
	rv = m->fl->C_GetTokenInfo(id, &info);
	if (rv != CKR_OK) {
		j->rv = rv;
		j->outcome = removed_or_failed(rv);
		goto release;
	}
	j->outcome = lockout_guard(j, info.flags);
	if (j->outcome != JOB_DONE)
		goto flags;

	/* R/W before any login: an SO login fails while a read-only session
	 * exists (libp11 pitfall), and C_SetPIN/C_InitPIN need R/W anyway. */
	if (PKCS11_open_session(slot, 1) < 0 || PKCS11_login(slot, so, j->pin->data) < 0) {
		j->rv = p11_last_ck_rv();
		j->outcome = outcome_of(j->rv);
		goto flags;
	}
	if (op)
		op(m, slot, id, j);
	(void)PKCS11_logout(slot);
	ERR_clear_error();
flags:
	if (m->fl->C_GetTokenInfo(id, &info) == CKR_OK) {
		j->user_pin = p11_pin_state(info.flags, false);
		j->so_pin = p11_pin_state(info.flags, true);
		/* A wrong PIN on the final try: say what it did. */
		if (j->outcome == JOB_WRONG_PIN &&
		    (so ? j->so_pin : j->user_pin) == UKEY_PIN_LOCKED)
			j->outcome = JOB_PIN_LOCKED;
	}
release:
	p11_module_release_slots(m);
}

static void set_pin(struct p11_module *m, PKCS11_SLOT *slot, CK_SLOT_ID id, struct job *j)
{
	if (PKCS11_change_pin(slot, j->pin->data, j->new_pin->data) < 0) {
		j->rv = p11_last_ck_rv();
		j->outcome = removed_or_failed(j->rv);
	}
}

static void init_pin(struct p11_module *m, PKCS11_SLOT *slot, CK_SLOT_ID id, struct job *j)
{
	if (PKCS11_init_pin(slot->token, j->new_pin->data) < 0) {
		j->rv = p11_last_ck_rv();
		j->outcome = removed_or_failed(j->rv);
	}
}

static void read_private(struct p11_module *m, PKCS11_SLOT *slot, CK_SLOT_ID id, struct job *j)
{
	j->rv = read_private_objects(m, id, container_of(j, struct private_read_job, job));
	if (j->rv != CKR_OK)
		j->outcome = removed_or_failed(j->rv);
}

static void selftest(struct p11_module *m, PKCS11_SLOT *slot, CK_SLOT_ID id, struct job *j)
{
	p11_selftest_run(container_of(j, struct selftest_job, job), slot);
}

void p11_change_pin(void *module, struct job *j)
{
	with_login(module, j, set_pin);
}

void p11_unlock_pin(void *module, struct job *j)
{
	with_login(module, j, init_pin);
}

void p11_probe_default_pin(void *module, struct job *j)
{
	with_login(module, j, NULL);
}

void p11_read_private(void *module, struct job *j)
{
	with_login(module, j, read_private);
}

void p11_selftest(void *module, struct job *j)
{
	with_login(module, j, selftest);
}
