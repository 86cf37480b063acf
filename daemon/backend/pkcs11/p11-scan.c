/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "p11-scan.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "p11-module.h"
#include "p11-read.h"
#include "text-decode.h"
#include "token.h"
#include "util.h"

/* How the modules say a token left: between two calls, or during one. */
static bool token_gone(CK_RV rv)
{
	return rv == CKR_TOKEN_NOT_PRESENT || rv == CKR_DEVICE_REMOVED ||
	       rv == CKR_SLOT_ID_INVALID || rv == CKR_SESSION_HANDLE_INVALID ||
	       rv == CKR_SESSION_CLOSED;
}

static unsigned long pin_len(CK_ULONG v)
{
	return v == CK_UNAVAILABLE_INFORMATION ? 0 : v;
}

/* The slots holding a token, straight from the module: libp11's
 * enumeration fails as a whole when one token errs (pulled out between two
 * calls), and one token must not hide the others. */
int p11_list_places(void *module, struct token_place **ret_places, size_t *ret_n, char **ret_error)
{
	struct p11_module *m = module;
	_cleanup_free_ CK_SLOT_ID *ids = NULL;
	struct token_place *places;
	CK_ULONG n = 0;
	CK_RV rv = CKR_OK;

	/* The count can grow between the two calls: a token plugged in. */
	for (int tries = 0; tries < 3; tries++) {
		rv = m->fl->C_GetSlotList(CK_TRUE, NULL, &n);
		if (rv != CKR_OK)
			break;
		free(ids);
		ids = calloc(n + 1, sizeof(*ids));
		if (!ids)
			return -ENOMEM;
		rv = m->fl->C_GetSlotList(CK_TRUE, ids, &n);
		if (rv != CKR_BUFFER_TOO_SMALL)
			break;
	}
	if (rv != CKR_OK) {
		if (asprintf(ret_error, "cannot list the module's slots: CK_RV 0x%lx",
			     (unsigned long)rv) < 0)
			*ret_error = NULL;
		return -EIO;
	}
	places = calloc(n + 1, sizeof(*places));
	if (!places)
		return -ENOMEM;
	for (CK_ULONG i = 0; i < n; i++)
		places[i].index = ids[i];
	*ret_places = places;
	*ret_n = n;
	return 0;
}

int p11_read_head(void *module, const struct token_place *place, struct token **ret)
{
	struct p11_module *m = module;
	_cleanup_token_ struct token *t = NULL;
	CK_TOKEN_INFO info;
	CK_RV rv;

	*ret = NULL;
	/* Raw C_GetTokenInfo, not libp11's copy: libp11 keeps PIN flags from
	 * enumeration time, and lacks the PIN length limits. */
	rv = m->fl->C_GetTokenInfo(place->index, &info);
	if (token_gone(rv))
		return 0;
	if (rv != CKR_OK) {
		log_warning("%s: slot %lu: reading the token failed: CK_RV 0x%lx", m->path,
			    place->index, (unsigned long)rv);
		return -EIO;
	}
	t = token_new();
	if (!t || token_place_copy(&t->place, place) < 0)
		return -ENOMEM;
	t->module = strdup(m->path);
	t->serial = p11_text_decode(info.serialNumber, sizeof(info.serialNumber));
	t->label = p11_text_decode(info.label, sizeof(info.label));
	t->manufacturer = p11_text_decode(info.manufacturerID, sizeof(info.manufacturerID));
	t->model = p11_text_decode(info.model, sizeof(info.model));
	if (!t->module || !t->serial || !t->label || !t->manufacturer || !t->model)
		return -ENOMEM;
	t->initialized = info.flags & CKF_TOKEN_INITIALIZED;
	t->user_pin = p11_pin_state(info.flags, false);
	t->so_pin = p11_pin_state(info.flags, true);
	t->pin_min = pin_len(info.ulMinPinLen);
	t->pin_max = pin_len(info.ulMaxPinLen);
	*ret = TAKE_PTR(t);
	return 0;
}

/* A blank token has no objects, and some modules hang opening a session on
 * one (libp11 0.4.12 waits forever after such a failure): the worker reads
 * objects of initialized tokens only. */
int p11_read_objects(void *module, struct token *t)
{
	struct p11_module *m = module;
	CK_SESSION_HANDLE s;
	CK_RV rv;

	rv = m->fl->C_OpenSession(t->place.index, CKF_SERIAL_SESSION, NULL, NULL, &s);
	if (rv == CKR_OK) {
		rv = p11_read_session_objects(m->fl, s, t);
		m->fl->C_CloseSession(s);
	}
	if (rv == CKR_OK)
		return 0;
	if (token_gone(rv))
		return -ENODEV;
	if (rv == CKR_HOST_MEMORY)
		return -ENOMEM;
	log_warning("%s: slot %lu: reading the token %s failed: CK_RV 0x%lx", m->path,
		    t->place.index, t->serial, (unsigned long)rv);
	return -EIO;
}
