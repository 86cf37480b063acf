/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "p11-scan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "p11-module.h"
#include "p11-read.h"
#include "scan-result.h"
#include "text-decode.h"
#include "token-analysis.h"
#include "token.h"
#include "util.h"

static unsigned long pin_len(CK_ULONG v)
{
	return v == CK_UNAVAILABLE_INFORMATION ? 0 : v;
}

/* Reads one token without logging in. Returns CKR_OK with *ret NULL when
 * the token left the slot meanwhile. */
static CK_RV scan_token(struct p11_module *m, CK_SLOT_ID slot, struct token **ret)
{
	CK_FUNCTION_LIST_PTR fl = m->fl;
	CK_SESSION_HANDLE s;
	CK_TOKEN_INFO info;
	struct token *t;
	CK_RV rv;

	*ret = NULL;
	/* Raw C_GetTokenInfo, not libp11's copy: libp11 keeps PIN flags from
	 * enumeration time, and lacks the PIN length limits. */
	rv = fl->C_GetTokenInfo(slot, &info);
	if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_REMOVED || rv == CKR_SLOT_ID_INVALID)
		return CKR_OK;
	if (rv != CKR_OK)
		return rv;
	t = calloc(1, sizeof(*t));
	if (!t)
		return CKR_HOST_MEMORY;
	t->slot_id = slot;
	t->module = strdup(m->path);
	t->serial = p11_text_decode(info.serialNumber, sizeof(info.serialNumber));
	t->label = p11_text_decode(info.label, sizeof(info.label));
	t->manufacturer = p11_text_decode(info.manufacturerID, sizeof(info.manufacturerID));
	t->model = p11_text_decode(info.model, sizeof(info.model));
	if (!t->module || !t->serial || !t->label || !t->manufacturer || !t->model) {
		token_free(t);
		return CKR_HOST_MEMORY;
	}
	t->initialized = info.flags & CKF_TOKEN_INITIALIZED;
	t->pin_default = -1; /* the loop fills in what it remembers */
	t->user_pin = p11_pin_state(info.flags, false);
	t->so_pin = p11_pin_state(info.flags, true);
	t->pin_min = pin_len(info.ulMinPinLen);
	t->pin_max = pin_len(info.ulMaxPinLen);

	/* A blank token has no objects, and some modules hang opening a
	 * session on one (libp11 0.4.12 waits forever after such a failure). */
	if (t->initialized) {
		rv = fl->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
		if (rv == CKR_OK) {
			rv = p11_read_certs(fl, s, t);
			if (rv == CKR_OK)
				rv = p11_read_data_objects(fl, s, t, false);
			if (rv == CKR_OK)
				rv = p11_read_keys(fl, s, t, CKO_PRIVATE_KEY);
			if (rv == CKR_OK)
				rv = p11_read_keys(fl, s, t, CKO_PUBLIC_KEY);
			fl->C_CloseSession(s);
		}
		if (rv != CKR_OK) {
			token_free(t);
			if (rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_REMOVED ||
			    rv == CKR_SESSION_HANDLE_INVALID || rv == CKR_SESSION_CLOSED)
				return CKR_OK; /* pulled out while we read it */
			return rv;
		}
	}
	if (token_analyze(t, m->profiles) < 0) {
		token_free(t);
		return CKR_HOST_MEMORY;
	}
	*ret = t;
	return CKR_OK;
}

/* The slots holding a token, straight from the module. */
static CK_RV list_token_slots(CK_FUNCTION_LIST_PTR fl, CK_SLOT_ID **ret, CK_ULONG *ret_n)
{
	CK_SLOT_ID *ids = NULL;
	CK_ULONG n = 0;
	CK_RV rv;

	/* The count can grow between the two calls: a token plugged in. */
	for (int tries = 0; tries < 3; tries++) {
		rv = fl->C_GetSlotList(CK_TRUE, NULL, &n);
		if (rv != CKR_OK)
			break;
		free(ids);
		ids = calloc(n + 1, sizeof(*ids));
		if (!ids)
			return CKR_HOST_MEMORY;
		rv = fl->C_GetSlotList(CK_TRUE, ids, &n);
		if (rv != CKR_BUFFER_TOO_SMALL)
			break;
	}
	if (rv != CKR_OK) {
		free(ids);
		return rv;
	}
	*ret = ids;
	*ret_n = n;
	return CKR_OK;
}

struct scan_result *p11_scan(void *module)
{
	struct p11_module *m = module;
	struct scan_result *r;
	_cleanup_free_ CK_SLOT_ID *ids = NULL;
	CK_ULONG n = 0;
	char *msg;
	CK_RV rv;

	/* libp11's slots are for logins only; refreshing them here releases
	 * the last login's, with the copy of the PIN libp11 keeps. */
	p11_module_refresh_slots(m);
	/* The scan lists slots itself rather than through libp11, whose
	 * enumeration fails as a whole when one token errs (pulled out
	 * between two calls, say): one token must not hide the others. */
	rv = list_token_slots(m->fl, &ids, &n);
	if (rv != CKR_OK) {
		if (asprintf(&msg, "cannot list the module's slots: CK_RV 0x%lx",
			     (unsigned long)rv) < 0)
			msg = NULL;
		return scan_result_new_error(-EIO, msg);
	}
	r = scan_result_new(n);
	if (!r)
		return NULL;
	for (CK_ULONG i = 0; i < n; i++) {
		struct token *t;

		rv = scan_token(m, ids[i], &t);
		if (rv != CKR_OK) {
			log_warning("%s: slot %lu: reading the token failed: CK_RV 0x%lx", m->path,
				    (unsigned long)ids[i], (unsigned long)rv);
			continue;
		}
		if (t)
			r->tokens[r->n_tokens++] = t;
	}
	return r;
}
