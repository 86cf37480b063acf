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
#include "text-decode.h"
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

/* Fresh flags before a login (any copy is as old as the last read), and
 * the lockout guard on them: false when nothing may be tried, with the
 * outcome set. The token at the job's place must still be the job's. */
static bool guard_passes(struct p11_module *m, struct job *j)
{
	_cleanup_free_ char *serial = NULL;
	CK_TOKEN_INFO info;
	CK_RV rv;

	rv = m->fl->C_GetTokenInfo(j->place.index, &info);
	if (rv != CKR_OK) {
		j->rv = rv;
		j->outcome = removed_or_failed(rv);
		return false;
	}
	serial = p11_text_decode(info.serialNumber, sizeof(info.serialNumber));
	if (!serial || strcmp(serial, j->serial) != 0) {
		j->outcome = serial ? JOB_TOKEN_REMOVED : JOB_FAILED;
		return false;
	}
	j->outcome = lockout_guard(j, info.flags);
	return j->outcome == JOB_DONE;
}

/* The PIN states after the attempt, for the reply and the cache. */
static void read_states_after(struct p11_module *m, struct job *j)
{
	bool so = j->kind == JOB_UNLOCK_PIN;
	CK_TOKEN_INFO info;

	if (m->fl->C_GetTokenInfo(j->place.index, &info) != CKR_OK)
		return;
	j->user_pin = p11_pin_state(info.flags, false);
	j->so_pin = p11_pin_state(info.flags, true);
	/* A wrong PIN on the final try: say what it did. */
	if (j->outcome == JOB_WRONG_PIN && (so ? j->so_pin : j->user_pin) == UKEY_PIN_LOCKED)
		j->outcome = JOB_PIN_LOCKED;
}

/* What a job does in its logged-in session; NULL for a probe, whose
 * login is all it does. Returns CKR_OK or what failed. */
typedef CK_RV (*logged_in_fn)(struct p11_module *m, CK_SESSION_HANDLE s, struct job *j);

/*
 * One login, never retried, then the operation, through the module's own
 * function list: a job touches its token only (libp11 would enumerate
 * every slot first, a device call per token), and no library keeps a copy
 * of the PIN after it.
 */
static void with_login(struct p11_module *m, struct job *j, logged_in_fn op)
{
	bool so = j->kind == JOB_UNLOCK_PIN;
	CK_SESSION_HANDLE s;
	CK_RV rv;

	if (!guard_passes(m, j))
		goto states;
	/* R/W before any login: an SO login fails while a read-only session
	 * exists, and C_SetPIN/C_InitPIN need R/W anyway. */
	rv = m->fl->C_OpenSession(j->place.index, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL,
				  &s);
	if (rv != CKR_OK) {
		j->rv = rv;
		j->outcome = removed_or_failed(rv);
		goto states;
	}
	rv = m->fl->C_Login(s, so ? CKU_SO : CKU_USER, (CK_UTF8CHAR_PTR)j->pin->data, j->pin->len);
	if (rv != CKR_OK) {
		j->rv = rv;
		j->outcome = outcome_of(rv);
	} else {
		rv = op ? op(m, s, j) : CKR_OK;
		if (rv != CKR_OK) {
			j->rv = rv;
			/* Logged in, so the PIN the token will not take is the new one. */
			j->outcome =
				j->new_pin && (rv == CKR_PIN_LEN_RANGE || rv == CKR_PIN_INVALID)
					? JOB_PIN_REFUSED
					: removed_or_failed(rv);
		}
		(void)m->fl->C_Logout(s);
	}
	m->fl->C_CloseSession(s);
states:
	read_states_after(m, j);
}

static CK_RV set_pin(struct p11_module *m, CK_SESSION_HANDLE s, struct job *j)
{
	return m->fl->C_SetPIN(s, (CK_UTF8CHAR_PTR)j->pin->data, j->pin->len,
			       (CK_UTF8CHAR_PTR)j->new_pin->data, j->new_pin->len);
}

static CK_RV init_pin(struct p11_module *m, CK_SESSION_HANDLE s, struct job *j)
{
	return m->fl->C_InitPIN(s, (CK_UTF8CHAR_PTR)j->new_pin->data, j->new_pin->len);
}

/* The private data objects, seen only while logged in. */
static CK_RV read_private(struct p11_module *m, CK_SESSION_HANDLE s, struct job *j)
{
	struct private_read_job *pj = container_of(j, struct private_read_job, job);
	CK_RV rv;

	pj->objects = token_new();
	if (!pj->objects || !(pj->objects->module = strdup(m->path)) ||
	    !(pj->objects->serial = strdup(j->serial)))
		return CKR_HOST_MEMORY;
	rv = p11_read_session_private_data(m->fl, s, pj->objects);
	if (rv == CKR_OK && token_find_seals(pj->objects) < 0)
		rv = CKR_HOST_MEMORY;
	return rv;
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

/* The self-test signs and decrypts through OpenSSL keys, which libp11
 * provides: it logs in through libp11, whose slots are enumerated for it
 * alone and released after it, and with them the copy of the PIN libp11
 * keeps after a login. */
void p11_selftest(void *module, struct job *j)
{
	struct p11_module *m = module;
	PKCS11_SLOT *slot;

	if (!guard_passes(m, j))
		goto states;
	p11_module_refresh_slots(m);
	slot = p11_module_find_slot(m, j->serial);
	/* What the queue holds after a failure below is then that failure's
	 * alone, not what the scans left on this thread. */
	ERR_clear_error();
	if (!slot) {
		j->outcome = JOB_TOKEN_REMOVED;
	} else if (PKCS11_open_session(slot, 1) < 0 || PKCS11_login(slot, 0, j->pin->data) < 0) {
		j->rv = p11_last_ck_rv();
		j->outcome = outcome_of(j->rv);
	} else {
		p11_selftest_run(m, container_of(j, struct selftest_job, job), slot);
		(void)PKCS11_logout(slot);
	}
	ERR_clear_error();
	p11_module_release_slots(m);
states:
	read_states_after(m, j);
}
