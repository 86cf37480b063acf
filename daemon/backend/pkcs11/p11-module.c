/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "p11-module.h"

#include <dlfcn.h>
#include <errno.h>
#include <openssl/err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int p11_module_load(const char *path, const struct ca_profiles *profiles,
		    struct p11_module **ret_module, char **ret_error)
{
	struct p11_module *m = calloc(1, sizeof(*m));
	CK_C_GetFunctionList get_fl;
	char buf[256];

	*ret_error = NULL;
	if (!m || !(m->path = strdup(path)) || !(m->ctx = PKCS11_CTX_new())) {
		p11_module_unload(m);
		return -ENOMEM;
	}
	m->profiles = profiles;
	if (PKCS11_CTX_load(m->ctx, path) < 0) {
		ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
		PKCS11_CTX_free(m->ctx);
		m->ctx = NULL;
		p11_module_unload(m);
		if (asprintf(ret_error, "cannot load PKCS#11 module: %s", buf) < 0)
			*ret_error = NULL;
		return -ENOENT;
	}
	/* libp11 hides data objects and the function list; the module it
	 * loaded is already mapped, so this dlopen finds the same copy, and
	 * the function list is already initialized. NODELETE keeps the module
	 * mapped after unloading: opencryptoki, for one, leaves exit-time
	 * hooks behind that crash the process if its code is gone. */
	m->dl = dlopen(path, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
	get_fl = m->dl ? (CK_C_GetFunctionList)dlsym(m->dl, "C_GetFunctionList") : NULL;
	if (!get_fl || get_fl(&m->fl) != CKR_OK || !m->fl) {
		p11_module_unload(m);
		if (asprintf(ret_error, "module has no usable C_GetFunctionList") < 0)
			*ret_error = NULL;
		return -ENOENT;
	}
	*ret_module = m;
	return 0;
}

void p11_module_unload(struct p11_module *m)
{
	if (!m)
		return;
	p11_module_release_slots(m);
	if (m->ctx) {
		PKCS11_CTX_unload(m->ctx);
		PKCS11_CTX_free(m->ctx);
	}
	if (m->dl)
		dlclose(m->dl);
	free(m->path);
	free(m);
}

void p11_module_release_slots(struct p11_module *m)
{
	if (m->slots)
		PKCS11_release_all_slots(m->ctx, m->slots, m->n_slots);
	m->slots = NULL;
	m->n_slots = 0;
}

/* Never PKCS11_update_slots(): it crashes in libp11 0.4.12 on the second
 * call with two or more slots. */
void p11_module_refresh_slots(struct p11_module *m)
{
	p11_module_release_slots(m);
	if (PKCS11_enumerate_slots(m->ctx, &m->slots, &m->n_slots) < 0) {
		/* One token failing C_GetTokenInfo fails it all; the next
		 * PIN job tries again. */
		ERR_clear_error();
		m->slots = NULL;
		m->n_slots = 0;
	}
}

PKCS11_SLOT *p11_module_find_slot(struct p11_module *m, const char *serial)
{
	for (unsigned i = 0; i < m->n_slots; i++) {
		PKCS11_TOKEN *t = m->slots[i].token;
		if (t && t->serialnr && strcmp(t->serialnr, serial) == 0)
			return &m->slots[i];
	}
	return NULL;
}

enum ukey_pin_state p11_pin_state(CK_FLAGS flags, bool so)
{
	if (flags & (so ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED))
		return UKEY_PIN_LOCKED;
	if (flags & (so ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY))
		return UKEY_PIN_FINAL_TRY;
	if (flags & (so ? CKF_SO_PIN_COUNT_LOW : CKF_USER_PIN_COUNT_LOW))
		return UKEY_PIN_COUNT_LOW;
	return UKEY_PIN_OK;
}

/* Only libp11's own errors of the module's CK_RVs (its "CKR" library)
 * carry one: anything else on the thread's queue (an ASN.1 or EVP error
 * left by the scan's parsing, a libp11 error of its own) has a reason code
 * that only looks like one, 0xa0 CKR_PIN_INCORRECT among them. */
CK_RV p11_last_ck_rv(void)
{
	int lib = ERR_get_CKR_code();
	unsigned long e;
	CK_RV rv = CKR_GENERAL_ERROR;

	while ((e = ERR_get_error()) != 0)
		if (ERR_GET_LIB(e) == lib)
			rv = (CK_RV)ERR_GET_REASON(e);
	return rv;
}
