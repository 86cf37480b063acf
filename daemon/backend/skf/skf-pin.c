/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "skf-pin.h"

#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "log.h"
#include "secret.h"
#include "skf-lib.h"
#include "skf-scan.h"
#include "skf-selftest.h"
#include "text-decode.h"
#include "token-analysis.h"
#include "token.h"
#include "util.h"

#define SEAL_ROOM (64u * 1024u)
#define SEAL_MAX (8u * 1024u * 1024u)

static enum job_outcome outcome_of(ULONG rv)
{
	switch (rv) {
	case SAR_OK:
		return JOB_DONE;
	case SAR_PIN_INCORRECT:
	case SAR_PIN_INVALID:
	case SAR_PIN_LEN_RANGE: /* counts no try, but the PIN is not right */
		return JOB_WRONG_PIN;
	case SAR_PIN_LOCKED: /* also the wrong PIN that spends the last try */
		return JOB_PIN_LOCKED;
	case SAR_DEVICE_REMOVED:
	case SAR_INVALIDHANDLEERR:
		return JOB_TOKEN_REMOVED;
	default:
		return JOB_FAILED;
	}
}

/* After the login: the token went away, or something else failed. */
static void fail_after_login(struct job *j, ULONG rv)
{
	j->rv = rv;
	j->outcome = skf_rv_gone(rv) ? JOB_TOKEN_REMOVED : JOB_FAILED;
}

/* A copy of a PIN for a call that takes LPSTR: the library gets a buffer
 * of its own, wiped when freed. */
static struct ukey_secret *pin_copy(const struct ukey_secret *s)
{
	return s ? ukey_secret_new(s->data, s->len) : NULL;
}

/* Whether the device connected afresh is still the job's token. */
static bool same_serial(const DEVINFO *info, const char *serial)
{
	_cleanup_free_ char *s =
		p11_text_decode((const uint8_t *)info->SerialNumber, sizeof(info->SerialNumber));

	return s && strcmp(s, serial) == 0;
}

/* A new handle on the job's token's PIN application: its login is the
 * job's alone. A device whose kept handle died is connected afresh once. */
static ULONG open_app(struct skf_lib *l, const char *serial, struct skf_dev **ret_dev,
		      HAPPLICATION *ret)
{
	struct skf_dev *d = skf_lib_find_serial(l, serial);
	ULONG rv = SAR_DEVICE_REMOVED;

	if (!d)
		return rv;
	for (int attempt = 0; attempt < 2; attempt++) {
		HAPPLICATION a = NULL;
		DEVINFO info;

		if (!d->h) {
			rv = skf_dev_connect(l, d, &info);
			if (rv != SAR_OK)
				return rv;
			if (!same_serial(&info, serial)) {
				skf_dev_disconnect(l, d);
				return SAR_DEVICE_REMOVED;
			}
		}
		if (d->n_apps == 0)
			return SAR_APPLICATION_NOT_EXISTS;
		rv = l->fn.OpenApplication(d->h, d->apps[d->pin_app].name, &a);
		if (rv == SAR_OK && !a)
			rv = SAR_INVALIDHANDLEERR;
		if (rv == SAR_OK) {
			*ret_dev = d;
			*ret = a;
			return SAR_OK;
		}
		if (!skf_rv_gone(rv))
			return rv;
		skf_dev_disconnect(l, d);
	}
	return rv;
}

/* What a job does once its PIN is accepted, on the same application
 * handle (the login belongs to it). NULL: the PIN call is the job. */
typedef void (*logged_in_fn)(struct skf_lib *l, struct skf_dev *d, HAPPLICATION app, struct job *j);

/* The job's one PIN call, never retried; *ret_left is the count the call
 * gives back when it failed (-1 when it gives none that makes sense). */
static ULONG pin_call(struct skf_lib *l, HAPPLICATION app, struct job *j, int *ret_left)
{
	_cleanup_secret_ struct ukey_secret *pin = pin_copy(j->pin);
	_cleanup_secret_ struct ukey_secret *new_pin = pin_copy(j->new_pin);
	skf_out32 retry = {.wide = UINT64_MAX}; /* left as it is: no count */
	ULONG rv;

	*ret_left = -1;
	if (!pin || (j->new_pin && !new_pin))
		return SKF_RV_NO_MEMORY;
	switch (j->kind) {
	case JOB_CHANGE_PIN:
		rv = l->fn.ChangePIN(app, USER_TYPE, pin->data, new_pin->data, &retry.v);
		break;
	case JOB_UNLOCK_PIN:
		rv = l->fn.UnblockPIN(app, pin->data, new_pin->data, &retry.v);
		break;
	default:
		rv = l->fn.VerifyPIN(app, USER_TYPE, pin->data, &retry.v);
		break;
	}
	if (rv != SAR_OK && retry.v <= 255)
		*ret_left = (int)retry.v;
	return rv;
}

/* The PINs as they are now, into the job (left as they were when they
 * cannot be read); the user PIN's facts in *ret_user. */
static ULONG fresh_states(struct skf_lib *l, HAPPLICATION app, struct job *j, bool so,
			  struct skf_pin_info *ret_user)
{
	struct skf_pin_info admin;
	ULONG rv = skf_pin_infos(l, app, ret_user, &admin);

	if (rv != SAR_OK)
		return rv;
	j->user_pin = skf_pin_state(ret_user);
	j->so_pin = skf_pin_state(&admin);
	j->tries_left = so ? admin.left : ret_user->left;
	return SAR_OK;
}

/*
 * One job: its application opened, the counts read fresh, the lockout
 * guard (a locked PIN is never tried; the last try only with force), the
 * one PIN call, what follows it while logged in, the counts again, then
 * the login cleared and the handle closed.
 */
static void with_pin(struct skf_lib *l, struct job *j, logged_in_fn op)
{
	bool so = j->kind == JOB_UNLOCK_PIN;
	struct skf_pin_info before, user;
	int after = -1;
	struct skf_dev *d = NULL;
	HAPPLICATION app = NULL;
	ULONG rv;

	j->outcome = JOB_TOKEN_REMOVED;
	rv = open_app(l, j->serial, &d, &app);
	if (rv != SAR_OK) {
		j->rv = rv;
		j->outcome = skf_rv_gone(rv) ? JOB_TOKEN_REMOVED : JOB_FAILED;
		return;
	}
	rv = skf_pin_info(l, app, so ? ADMIN_TYPE : USER_TYPE, &before);
	if (rv != SAR_OK) {
		fail_after_login(j, rv);
		goto close;
	}
	j->tries_left = before.left;
	if (before.left == 0)
		j->outcome = JOB_PIN_LOCKED;
	else if ((before.left == 1 || before.left < 0) && !j->force)
		j->outcome = JOB_GUARD_REFUSED; /* the final try, or maybe it */
	else
		j->outcome = JOB_DONE;
	if (j->outcome != JOB_DONE)
		goto states;

	rv = pin_call(l, app, j, &after);
	j->outcome = outcome_of(rv);
	if (j->outcome != JOB_DONE)
		j->rv = rv;
	else if (op)
		op(l, d, app, j);
	/* Where the counts cannot be read again, the PIN call's own count
	 * (of the user PIN: vendors differ on what UnblockPIN gives). */
	if (!so && after >= 0)
		j->tries_left = after;
states:
	(void)fresh_states(l, app, j, so, &user);
	/* A wrong PIN on the final try: say what it did. */
	if (j->outcome == JOB_WRONG_PIN && j->tries_left == 0)
		j->outcome = JOB_PIN_LOCKED;
	/* ChangePIN and UnblockPIN judge both PINs in one call: a PIN of a
	 * length or characters the token takes for no PIN, with no try
	 * spent, is not a wrong PIN (the current one may well be right). */
	if (j->outcome == JOB_WRONG_PIN && j->new_pin &&
	    (rv == SAR_PIN_LEN_RANGE || rv == SAR_PIN_INVALID) && before.left >= 0 &&
	    j->tries_left == before.left)
		j->outcome = JOB_PIN_REFUSED;
	(void)l->fn.ClearSecureState(app);
close:
	(void)l->fn.CloseApplication(app);
	if (j->outcome == JOB_TOKEN_REMOVED && d)
		skf_dev_disconnect(l, d);
}

void skf_change_pin(void *lib, struct job *j)
{
	with_pin(lib, j, NULL);
}

void skf_unlock_pin(void *lib, struct job *j)
{
	with_pin(lib, j, NULL);
}

/* The device says whether the user PIN is still the default: asked, no
 * PIN is tried, whatever the counts. */
void skf_probe_default_pin(void *lib, struct job *j)
{
	struct skf_lib *l = lib;
	struct skf_pin_info user;
	struct skf_dev *d = NULL;
	HAPPLICATION app = NULL;
	ULONG rv = open_app(l, j->serial, &d, &app);

	j->by_flag = true;
	if (rv == SAR_OK) {
		rv = fresh_states(l, app, j, false, &user);
		(void)l->fn.CloseApplication(app);
	}
	if (rv != SAR_OK) {
		j->rv = rv;
		j->outcome = skf_rv_gone(rv) ? JOB_TOKEN_REMOVED : JOB_FAILED;
		if (skf_rv_gone(rv) && d)
			skf_dev_disconnect(l, d);
		return;
	}
	j->outcome = user.is_default == 1 ? JOB_DONE : JOB_WRONG_PIN;
}

struct eps_ctx {
	struct skf_lib *l;
	HAPPLICATION app;
};

static ULONG eps_read(void *ctx, BYTE *buf, ULONG *len)
{
	struct eps_ctx *e = ctx;

	/* Key index, algorithm and flags select among a CA's seals where
	 * there are several; the first signing seal is asked for. */
	return e->l->fn.EPS_ReadESealData(e->app, 0, SGD_SM2_1, buf, len, 0);
}

/* The files only a user login opens, and the seal the EPS extension
 * hands out; seals found among them by content. */
static void read_private(struct skf_lib *l, struct skf_dev *d, HAPPLICATION app, struct job *j)
{
	struct private_read_job *pj = container_of(j, struct private_read_job, job);
	struct eps_ctx e = {l, app};
	uint8_t *seal = NULL;
	size_t len = 0;
	ULONG rv;

	pj->objects = token_new();
	if (!pj->objects || !(pj->objects->module = strdup(l->path)) ||
	    !(pj->objects->serial = strdup(j->serial))) {
		fail_after_login(j, SKF_RV_NO_MEMORY);
		return;
	}
	rv = skf_read_files(l, app, d->apps[d->pin_app].name, false, d->max_buffer, pj->objects);
	if (rv == SAR_OK && l->fn.EPS_ReadESealData) {
		rv = skf_fetch(eps_read, &e, SEAL_ROOM, SEAL_MAX, &seal, &len);
		if (rv == SAR_OK && len > 0) {
			rv = skf_add_object(pj->objects, d->apps[d->pin_app].name,
					    "EPS_ReadESealData", seal, len);
		} else {
			free(seal);
			if (rv == SAR_FILE_NOT_EXIST || rv == SAR_NOTSUPPORTYETERR)
				rv = SAR_OK; /* no seal on this token */
		}
	}
	if (rv == SAR_OK && token_find_seals(pj->objects) < 0)
		rv = SKF_RV_NO_MEMORY;
	if (rv != SAR_OK) {
		log_warning("%s: token %s: reading what the PIN opens failed: %s", l->path,
			    j->serial, skf_rv_text(rv));
		fail_after_login(j, rv);
	}
}

void skf_read_private(void *lib, struct job *j)
{
	with_pin(lib, j, read_private);
}

static void selftest(struct skf_lib *l, struct skf_dev *d, HAPPLICATION app, struct job *j)
{
	skf_selftest_run(l, d, app, container_of(j, struct selftest_job, job));
}

void skf_selftest(void *lib, struct job *j)
{
	with_pin(lib, j, selftest);
}
