/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * One PKCS#11 module as the pkcs11 backend holds it: loaded through
 * libp11 (logins, PIN operations, OpenSSL keys), with the module's own
 * function list beside it for what libp11 lacks or gets wrong (data
 * objects, PIN length limits, fresh flags, per-slot reads).
 * shared/reference/tokens.md lists the libp11 0.4.12 pitfalls avoided here.
 */
#pragma once

#include <libp11.h>
#include <p11-kit/pkcs11.h>
#include <stdbool.h>

#include "ukey/ukey.h"

struct ca_profiles;
struct device_watch;

struct p11_module {
	char *path;
	const struct ca_profiles *profiles;
	PKCS11_CTX *ctx;
	PKCS11_SLOT *slots; /* libp11's view, during a PIN job only */
	unsigned n_slots;
	void *dl;
	CK_FUNCTION_LIST_PTR fl;
	struct device_watch *slot_events; /* NULL when the module cannot block in them */
};

/* Loads the module. Returns 0, or a negative errno with what failed in
 * *ret_error (malloc'ed, or NULL). */
int p11_module_load(const char *path, const struct ca_profiles *profiles,
		    struct p11_module **ret_module, char **ret_error);

/* Finalizes and frees (NULL is fine). The library stays mapped. */
void p11_module_unload(struct p11_module *m);

/* Enumerates libp11's slots anew, for a login (only PIN jobs use
 * libp11's slots). */
void p11_module_refresh_slots(struct p11_module *m);

/* Releases them: with them goes the copy of the PIN libp11 keeps after a
 * login. */
void p11_module_release_slots(struct p11_module *m);

/* libp11's slot holding the token with that serial, or NULL. */
PKCS11_SLOT *p11_module_find_slot(struct p11_module *m, const char *serial);

/* The user (or SO) PIN's state from a token's flags. */
enum ukey_pin_state p11_pin_state(CK_FLAGS flags, bool so);

/* The CK_RV of libp11's last failure (it files the module's CK_RVs as the
 * reason of its CKR library's errors; CKR_GENERAL_ERROR when the queue
 * holds none), and OpenSSL's error queue emptied. Clear the queue before
 * the libp11 call whose failure this reads. */
CK_RV p11_last_ck_rv(void);
