/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "p11-worker.h"

#include <dlfcn.h>
#include <errno.h>
#include <libp11.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <p11-kit/pkcs11.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "secret.h"
#include "text-decode.h"
#include "token.h"
#include "util.h"

/* Bounds on what one token may make us hold in memory. */
#define MAX_OBJECT_VALUE (8u * 1024u * 1024u)
#define MAX_OBJECTS_PER_CLASS 1024u

struct p11_worker {
	char *module;
	const struct ca_profiles *profiles; /* read-only, shared by all workers */
	int event_fd;
	pthread_t thread;
	bool thread_started;
	/* The module's own slot events (C_WaitForSlotEvent), where it has
	 * them: a thread of their own, started once the module is loaded. */
	int slot_event_fd;
	pthread_t slot_thread;
	bool slot_thread_started; /* set by the worker thread, read after joining it */

	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* under lock */
	uint64_t requested;
	bool quit;
	struct p11_scan_result *done;
	struct p11_job *jobs, *jobs_done; /* queues, oldest first */

	/* owned by the thread */
	PKCS11_CTX *ctx;
	PKCS11_SLOT *slots;
	unsigned n_slots;
	void *dl;
	CK_FUNCTION_LIST_PTR fl;
};

void p11_scan_result_free(struct p11_scan_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_tokens; i++)
		token_free(r->tokens[i]);
	free(r->tokens);
	free(r->error_msg);
	free(r);
}

static enum ukey_pin_state pin_state(CK_FLAGS flags, bool so)
{
	if (flags & (so ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED))
		return UKEY_PIN_LOCKED;
	if (flags & (so ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY))
		return UKEY_PIN_FINAL_TRY;
	if (flags & (so ? CKF_SO_PIN_COUNT_LOW : CKF_USER_PIN_COUNT_LOW))
		return UKEY_PIN_COUNT_LOW;
	return UKEY_PIN_OK;
}

static unsigned long pin_len(CK_ULONG v)
{
	return v == CK_UNAVAILABLE_INFORMATION ? 0 : v;
}

/* Reads one attribute into a fresh buffer (NUL-terminated for text). An
 * attribute the object lacks, or keeps secret, leaves *ret NULL. */
static CK_RV read_attribute(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
			    CK_ATTRIBUTE_TYPE type, uint8_t **ret, size_t *ret_len)
{
	CK_ATTRIBUTE a = {type, NULL, 0};
	uint8_t *buf;
	CK_RV rv;

	*ret = NULL;
	*ret_len = 0;
	rv = fl->C_GetAttributeValue(s, o, &a, 1);
	if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID)
		return CKR_OK;
	if (rv != CKR_OK)
		return rv;
	if (a.ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return CKR_OK;
	if (a.ulValueLen > MAX_OBJECT_VALUE)
		return CKR_DEVICE_MEMORY; /* refuse to hold it: reported as too large */
	buf = malloc(a.ulValueLen + 1);
	if (!buf)
		return CKR_HOST_MEMORY;
	a.pValue = buf;
	rv = fl->C_GetAttributeValue(s, o, &a, 1);
	if (rv != CKR_OK) {
		free(buf);
		return rv;
	}
	buf[a.ulValueLen] = 0;
	*ret = buf;
	*ret_len = a.ulValueLen;
	return CKR_OK;
}

static CK_RV read_text_attribute(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
				 CK_ATTRIBUTE_TYPE type, char **ret)
{
	_cleanup_free_ uint8_t *raw = NULL;
	size_t len;
	CK_RV rv;

	rv = read_attribute(fl, s, o, type, &raw, &len);
	if (rv != CKR_OK)
		return rv;
	*ret = p11_text_decode(raw ? raw : (const uint8_t *)"", len);
	return *ret ? CKR_OK : CKR_HOST_MEMORY;
}

/* Objects of a class; only the private ones when private_only (which
 * needs a logged-in session to find any). */
static CK_RV find_objects(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_CLASS cls,
			  bool private_only, CK_OBJECT_HANDLE **ret, size_t *ret_n)
{
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_PRIVATE, &yes, sizeof(yes)}};
	CK_OBJECT_HANDLE *handles = NULL;
	size_t n = 0;
	CK_RV rv;

	rv = fl->C_FindObjectsInit(s, tmpl, private_only ? 2 : 1);
	if (rv != CKR_OK)
		return rv;
	handles = calloc(MAX_OBJECTS_PER_CLASS, sizeof(*handles));
	if (!handles) {
		fl->C_FindObjectsFinal(s);
		return CKR_HOST_MEMORY;
	}
	while (n < MAX_OBJECTS_PER_CLASS) {
		CK_ULONG got = 0;
		rv = fl->C_FindObjects(s, handles + n, MAX_OBJECTS_PER_CLASS - n, &got);
		if (rv != CKR_OK || got == 0)
			break;
		n += got;
	}
	fl->C_FindObjectsFinal(s);
	if (rv != CKR_OK) {
		free(handles);
		return rv;
	}
	*ret = handles;
	*ret_n = n;
	return CKR_OK;
}

static CK_RV read_certs(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, struct token *t)
{
	_cleanup_free_ CK_OBJECT_HANDLE *h = NULL;
	size_t n = 0;
	CK_RV rv;

	rv = find_objects(fl, s, CKO_CERTIFICATE, false, &h, &n);
	if (rv != CKR_OK || n == 0)
		return rv;
	t->certs = calloc(n, sizeof(*t->certs));
	if (!t->certs)
		return CKR_HOST_MEMORY;
	for (size_t i = 0; i < n; i++) {
		struct token_cert *c = &t->certs[t->n_certs];

		rv = read_attribute(fl, s, h[i], CKA_VALUE, &c->der, &c->der_len);
		if (rv == CKR_DEVICE_MEMORY) {
			log_warning("%s: token %s: certificate object too large, skipped",
				    t->module, t->serial);
			continue;
		}
		if (rv == CKR_OK)
			rv = read_attribute(fl, s, h[i], CKA_ID, &c->id, &c->id_len);
		if (rv == CKR_OK)
			rv = read_text_attribute(fl, s, h[i], CKA_LABEL, &c->label);
		t->n_certs++; /* token_free() releases partial entries too */
		if (rv != CKR_OK)
			return rv;
	}
	return CKR_OK;
}

/* Key objects visible without login, with what they show of the key,
 * for pairing certificates with their keys. */
static CK_RV read_keys(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, struct token *t,
		       CK_OBJECT_CLASS cls)
{
	_cleanup_free_ CK_OBJECT_HANDLE *h = NULL;
	struct token_key *n;
	size_t count = 0;
	CK_RV rv;

	rv = find_objects(fl, s, cls, false, &h, &count);
	if (rv != CKR_OK || count == 0)
		return rv;
	n = realloc(t->keys, (t->n_keys + count) * sizeof(*n));
	if (!n)
		return CKR_HOST_MEMORY;
	t->keys = n;
	for (size_t i = 0; i < count; i++) {
		struct token_key *k = &t->keys[t->n_keys];
		_cleanup_free_ uint8_t *type = NULL;
		CK_KEY_TYPE key_type = CK_UNAVAILABLE_INFORMATION;
		size_t type_len;

		*k = (struct token_key){.is_private = cls == CKO_PRIVATE_KEY};
		t->n_keys++;
		rv = read_attribute(fl, s, h[i], CKA_ID, &k->id, &k->id_len);
		if (rv == CKR_OK)
			rv = read_attribute(fl, s, h[i], CKA_KEY_TYPE, &type, &type_len);
		if (rv == CKR_OK && type && type_len == sizeof(CK_KEY_TYPE))
			key_type = *(CK_KEY_TYPE *)type;
		if (rv == CKR_OK && key_type == CKK_RSA)
			rv = read_attribute(fl, s, h[i], CKA_MODULUS, &k->modulus, &k->modulus_len);
		if (rv == CKR_OK && key_type == CKK_EC && cls == CKO_PUBLIC_KEY)
			rv = read_attribute(fl, s, h[i], CKA_EC_POINT, &k->ec_point,
					    &k->ec_point_len);
		if (rv != CKR_OK)
			return rv;
	}
	return CKR_OK;
}

static CK_RV read_data_objects(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, struct token *t,
			       bool private_only)
{
	_cleanup_free_ CK_OBJECT_HANDLE *h = NULL;
	size_t n = 0;
	CK_RV rv;

	rv = find_objects(fl, s, CKO_DATA, private_only, &h, &n);
	if (rv != CKR_OK || n == 0)
		return rv;
	t->objects = calloc(n, sizeof(*t->objects));
	if (!t->objects)
		return CKR_HOST_MEMORY;
	for (size_t i = 0; i < n; i++) {
		struct token_object *d = &t->objects[t->n_objects];

		rv = read_attribute(fl, s, h[i], CKA_VALUE, &d->value, &d->value_len);
		if (rv == CKR_DEVICE_MEMORY) {
			log_warning("%s: token %s: data object too large, skipped", t->module,
				    t->serial);
			continue;
		}
		if (rv == CKR_OK)
			rv = read_text_attribute(fl, s, h[i], CKA_LABEL, &d->label);
		if (rv == CKR_OK)
			rv = read_text_attribute(fl, s, h[i], CKA_APPLICATION, &d->application);
		t->n_objects++;
		if (rv != CKR_OK)
			return rv;
	}
	return CKR_OK;
}

/* A seal is any data object whose value parses as one, whatever its label
 * or application says. */
static int find_seals(struct token *t)
{
	for (size_t i = 0; i < t->n_objects; i++) {
		struct token_object *o = &t->objects[i];
		if (o->value && seal_parse(o->value, o->value_len, &o->seal) == -ENOMEM)
			return -ENOMEM;
	}
	return 0;
}

/* What the token's raw objects mean: every certificate analyzed, the
 * holder named, the seals found. Done here so the event loop only ever copies results. */
static int analyze_token(struct token *t, const struct ca_profiles *profiles)
{
	_cleanup_free_ const struct cert_info **infos = calloc(t->n_certs + 1, sizeof(*infos));

	if (!infos)
		return -ENOMEM;
	for (size_t i = 0; i < t->n_certs; i++) {
		struct token_cert *c = &t->certs[i];
		int r = cert_analyze(c->der, c->der_len, c->id, c->id_len, profiles, t->keys,
				     t->n_keys, &c->info);
		if (r == -ENOMEM)
			return r;
		infos[i] = c->info; /* NULL for an object that is no certificate */
	}
	holder_from_certs(infos, t->n_certs, &t->holder);
	return find_seals(t);
}

/* Reads one token without logging in. Returns CKR_OK with *ret NULL when
 * the token left the slot meanwhile. */
static CK_RV scan_token(struct p11_worker *w, CK_SLOT_ID slot, struct token **ret)
{
	CK_FUNCTION_LIST_PTR fl = w->fl;
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
	t->module = strdup(w->module);
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
	t->user_pin = pin_state(info.flags, false);
	t->so_pin = pin_state(info.flags, true);
	t->pin_min = pin_len(info.ulMinPinLen);
	t->pin_max = pin_len(info.ulMaxPinLen);

	/* A blank token has no objects, and some modules hang opening a
	 * session on one (libp11 0.4.12 waits forever after such a failure). */
	if (t->initialized) {
		rv = fl->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &s);
		if (rv == CKR_OK) {
			rv = read_certs(fl, s, t);
			if (rv == CKR_OK)
				rv = read_data_objects(fl, s, t, false);
			if (rv == CKR_OK)
				rv = read_keys(fl, s, t, CKO_PRIVATE_KEY);
			if (rv == CKR_OK)
				rv = read_keys(fl, s, t, CKO_PUBLIC_KEY);
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
	if (analyze_token(t, w->profiles) < 0) {
		token_free(t);
		return CKR_HOST_MEMORY;
	}
	*ret = t;
	return CKR_OK;
}

static int worker_load(struct p11_worker *w, char **ret_msg)
{
	CK_C_GetFunctionList get_fl;
	char buf[256];

	w->ctx = PKCS11_CTX_new();
	if (!w->ctx)
		return -ENOMEM;
	if (PKCS11_CTX_load(w->ctx, w->module) < 0) {
		ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
		PKCS11_CTX_free(w->ctx);
		w->ctx = NULL;
		if (asprintf(ret_msg, "cannot load PKCS#11 module: %s", buf) < 0)
			*ret_msg = NULL;
		return -ENOENT;
	}
	/* libp11 hides data objects and the function list; the module it
	 * loaded is already mapped, so this dlopen finds the same copy, and
	 * the function list is already initialized. NODELETE keeps the module
	 * mapped after unloading: opencryptoki, for one, leaves exit-time
	 * hooks behind that crash the process if its code is gone. */
	w->dl = dlopen(w->module, RTLD_NOW | RTLD_NOLOAD | RTLD_NODELETE);
	get_fl = w->dl ? (CK_C_GetFunctionList)dlsym(w->dl, "C_GetFunctionList") : NULL;
	if (!get_fl || get_fl(&w->fl) != CKR_OK || !w->fl) {
		if (asprintf(ret_msg, "module has no usable C_GetFunctionList") < 0)
			*ret_msg = NULL;
		return -ENOENT;
	}
	return 0;
}

static void worker_unload(struct p11_worker *w)
{
	if (w->slots)
		PKCS11_release_all_slots(w->ctx, w->slots, w->n_slots);
	w->slots = NULL;
	w->n_slots = 0;
	if (w->ctx) {
		PKCS11_CTX_unload(w->ctx);
		PKCS11_CTX_free(w->ctx);
	}
	w->ctx = NULL;
	if (w->dl)
		dlclose(w->dl);
	w->dl = NULL;
	w->fl = NULL;
}

struct slot_waiter {
	CK_FUNCTION_LIST_PTR fl;
	int fd;
};

/* Blocks in C_WaitForSlotEvent and tells the loop of every event. Ends
 * when the module is finalized (C_Finalize wakes it, as PKCS#11 says) or
 * on any other failure: never a busy loop on an error. Holds nothing of
 * the worker, so it may outlive it. */
static void *slot_waiter_main(void *arg)
{
	struct slot_waiter *sw = arg;
	uint64_t one = 1;

	for (;;) {
		CK_SLOT_ID slot;
		CK_RV rv = sw->fl->C_WaitForSlotEvent(0, &slot, NULL);

		if (rv != CKR_OK)
			break;
		if (write(sw->fd, &one, sizeof(one)) < 0)
			break;
	}
	free(sw);
	return NULL;
}

/* Starts the slot event thread if the module can wait for slot events.
 * Many cannot (SoftHSM), or only without blocking, which would mean
 * polling: those keep to USB hotplug and refresh. */
static void start_slot_waiter(struct p11_worker *w)
{
	struct slot_waiter *sw;
	CK_SLOT_ID slot;
	CK_RV rv;

	if (w->slot_thread_started || !w->fl->C_WaitForSlotEvent)
		return;
	rv = w->fl->C_WaitForSlotEvent(CKF_DONT_BLOCK, &slot, NULL);
	if (rv != CKR_OK && rv != CKR_NO_EVENT)
		return;
	sw = malloc(sizeof(*sw));
	if (!sw)
		return;
	*sw = (struct slot_waiter){.fl = w->fl, .fd = w->slot_event_fd};
	if (pthread_create(&w->slot_thread, NULL, slot_waiter_main, sw) != 0) {
		free(sw);
		return;
	}
	w->slot_thread_started = true;
	log_debug("%s: following its slot events (C_WaitForSlotEvent)", w->module);
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

/* libp11's view of the slots, for logins and PIN operations. Never
 * PKCS11_update_slots(): it crashes in libp11 0.4.12 on the second call
 * with two or more slots. Release and enumerate anew; releasing also drops
 * the copy of the PIN libp11 keeps after a login. */
static void refresh_libp11_slots(struct p11_worker *w)
{
	if (w->slots)
		PKCS11_release_all_slots(w->ctx, w->slots, w->n_slots);
	w->slots = NULL;
	w->n_slots = 0;
	if (PKCS11_enumerate_slots(w->ctx, &w->slots, &w->n_slots) < 0) {
		/* One token failing C_GetTokenInfo fails it all; the next
		 * PIN job tries again. */
		ERR_clear_error();
		w->slots = NULL;
		w->n_slots = 0;
	}
}

static struct p11_scan_result *worker_scan(struct p11_worker *w)
{
	struct p11_scan_result *r = calloc(1, sizeof(*r));
	_cleanup_free_ CK_SLOT_ID *ids = NULL;
	CK_ULONG n = 0;
	CK_RV rv;

	if (!r)
		return NULL;
	if (!w->fl) {
		r->error = worker_load(w, &r->error_msg);
		if (r->error < 0) {
			worker_unload(w);
			return r;
		}
		start_slot_waiter(w);
	}
	refresh_libp11_slots(w);
	/* The scan lists slots itself rather than through libp11, whose
	 * enumeration fails as a whole when one token errs (pulled out
	 * between two calls, say): one token must not hide the others. */
	rv = list_token_slots(w->fl, &ids, &n);
	if (rv != CKR_OK) {
		r->error = -EIO;
		if (asprintf(&r->error_msg, "cannot list the module's slots: CK_RV 0x%lx",
			     (unsigned long)rv) < 0)
			r->error_msg = NULL;
		return r;
	}
	r->tokens = calloc(n + 1, sizeof(*r->tokens));
	if (!r->tokens) {
		free(r);
		return NULL;
	}
	for (CK_ULONG i = 0; i < n; i++) {
		struct token *t;

		rv = scan_token(w, ids[i], &t);
		if (rv != CKR_OK) {
			/* One bad token does not hide the others. */
			log_warning("%s: slot %lu: reading the token failed: CK_RV 0x%lx",
				    w->module, (unsigned long)ids[i], (unsigned long)rv);
			continue;
		}
		if (t)
			r->tokens[r->n_tokens++] = t;
	}
	return r;
}

void p11_job_free(struct p11_job *j)
{
	if (!j)
		return;
	ukey_secret_free(j->pin);
	ukey_secret_free(j->new_pin);
	free(j->serial);
	p11_scan_result_free(j->scan);
	token_free(j->private_objects);
	free(j->sign_cert.der);
	free(j->sign_cert.id);
	free(j->enc_cert.der);
	free(j->enc_cert.id);
	free(j);
}

static PKCS11_SLOT *find_slot(struct p11_worker *w, const char *serial)
{
	for (unsigned i = 0; i < w->n_slots; i++) {
		PKCS11_TOKEN *t = w->slots[i].token;
		if (t && t->serialnr && strcmp(t->serialnr, serial) == 0)
			return &w->slots[i];
	}
	return NULL;
}

/* The CK_RV of libp11's last failure (it files them as the reason). */
static CK_RV last_ck_rv(void)
{
	unsigned long e, last = 0;

	while ((e = ERR_get_error()) != 0)
		last = e;
	return last ? (CK_RV)ERR_GET_REASON(last) : CKR_GENERAL_ERROR;
}

static enum p11_job_outcome outcome_of(CK_RV rv)
{
	switch (rv) {
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
	case CKR_PIN_LEN_RANGE:
		return P11_JOB_WRONG_PIN;
	case CKR_PIN_LOCKED:
		return P11_JOB_PIN_LOCKED;
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_SLOT_ID_INVALID:
		return P11_JOB_TOKEN_REMOVED;
	default:
		return P11_JOB_FAILED;
	}
}

/* A failure after the login: the token went away, or something else. */
static enum p11_job_outcome removed_or_failed(CK_RV rv)
{
	return outcome_of(rv) == P11_JOB_TOKEN_REMOVED ? P11_JOB_TOKEN_REMOVED : P11_JOB_FAILED;
}

/* Refuses, before any login, what would spend a try the caller did not
 * agree to spend. Returns P11_JOB_DONE when the attempt may go ahead. */
static enum p11_job_outcome lockout_guard(const struct p11_job *j, CK_FLAGS flags)
{
	bool so = j->kind == P11_JOB_UNLOCK;

	if (flags & (so ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED))
		return P11_JOB_PIN_LOCKED;
	/* A probe is a guess: never while any try has failed. */
	if (j->kind == P11_JOB_PROBE_DEFAULT &&
	    (flags & (CKF_USER_PIN_COUNT_LOW | CKF_USER_PIN_FINAL_TRY)))
		return P11_JOB_GUARD_REFUSED;
	if (!j->force && (flags & (so ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY)))
		return P11_JOB_GUARD_REFUSED;
	return P11_JOB_DONE;
}

/* The private data objects, seen only while logged in (the login is the
 * token's, so a session of our own sees them too). */
static CK_RV read_private_objects(struct p11_worker *w, CK_SLOT_ID id, struct p11_job *j)
{
	CK_SESSION_HANDLE s;
	CK_RV rv;

	j->private_objects = calloc(1, sizeof(*j->private_objects));
	if (!j->private_objects || !(j->private_objects->module = strdup(w->module)) ||
	    !(j->private_objects->serial = strdup(j->serial)))
		return CKR_HOST_MEMORY;
	rv = w->fl->C_OpenSession(id, CKF_SERIAL_SESSION, NULL, NULL, &s);
	if (rv != CKR_OK)
		return rv;
	rv = read_data_objects(w->fl, s, j->private_objects, true);
	w->fl->C_CloseSession(s);
	if (rv == CKR_OK && find_seals(j->private_objects) < 0)
		rv = CKR_HOST_MEMORY;
	return rv;
}

static X509 *cert_of(const struct p11_test_cert *c)
{
	const unsigned char *p = c->der;

	return c->der ? d2i_X509(NULL, &p, (long)c->der_len) : NULL;
}

/* The private key with the certificate's CKA_ID, as OpenSSL sees it
 * through libp11 (operations then run on the token). */
static EVP_PKEY *key_for(PKCS11_KEY *keys, unsigned n, const struct p11_test_cert *c)
{
	for (unsigned i = 0; c->id && i < n; i++)
		if (keys[i].isPrivate && keys[i].id_len == c->id_len &&
		    memcmp(keys[i].id, c->id, c->id_len) == 0)
			return PKCS11_get_private_key(&keys[i]);
	return NULL;
}

/* Signs random data with the token's key; OpenSSL verifies it against the
 * certificate. 1 passed, 0 failed, -1 no key to test. */
static int sign_test(EVP_PKEY *key, X509 *cert)
{
	unsigned char data[32], sig[1024];
	size_t sig_len = sizeof(sig);
	EVP_MD_CTX *md;
	int ok = 0;

	if (!key || !cert)
		return -1;
	md = EVP_MD_CTX_new();
	if (md && RAND_bytes(data, sizeof(data)) == 1 &&
	    EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) == 1 &&
	    EVP_DigestSign(md, sig, &sig_len, data, sizeof(data)) == 1) {
		EVP_MD_CTX_reset(md);
		ok = EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, X509_get0_pubkey(cert)) ==
			     1 &&
		     EVP_DigestVerify(md, sig, sig_len, data, sizeof(data)) == 1;
	}
	EVP_MD_CTX_free(md);
	return ok;
}

/* RSA: OpenSSL encrypts to the certificate, the token decrypts. EC: ECDH
 * between a fresh key and the certificate, agreed by the token too. */
static int decrypt_test(EVP_PKEY *key, X509 *cert)
{
	EVP_PKEY *pub = cert ? X509_get0_pubkey(cert) : NULL, *eph = NULL;
	EVP_PKEY_CTX *enc = NULL, *dec = NULL;
	unsigned char secret[32], ct[1024], pt[1024], a[256], b[256];
	size_t ct_len = sizeof(ct), pt_len = sizeof(pt), a_len = sizeof(a), b_len = sizeof(b);
	char group[64];
	int ok = 0;

	if (!key || !pub)
		return -1;
	if (EVP_PKEY_is_a(pub, "RSA")) {
		enc = EVP_PKEY_CTX_new(pub, NULL);
		dec = EVP_PKEY_CTX_new(key, NULL);
		ok = enc && dec && RAND_bytes(secret, sizeof(secret)) == 1 &&
		     EVP_PKEY_encrypt_init(enc) == 1 &&
		     EVP_PKEY_CTX_set_rsa_padding(enc, RSA_PKCS1_PADDING) == 1 &&
		     EVP_PKEY_encrypt(enc, ct, &ct_len, secret, sizeof(secret)) == 1 &&
		     EVP_PKEY_decrypt_init(dec) == 1 &&
		     EVP_PKEY_CTX_set_rsa_padding(dec, RSA_PKCS1_PADDING) == 1 &&
		     EVP_PKEY_decrypt(dec, pt, &pt_len, ct, ct_len) == 1 &&
		     pt_len == sizeof(secret) && memcmp(pt, secret, pt_len) == 0;
	} else if (EVP_PKEY_is_a(pub, "EC") &&
		   EVP_PKEY_get_group_name(pub, group, sizeof(group), NULL) &&
		   (eph = EVP_EC_gen(group))) {
		enc = EVP_PKEY_CTX_new(eph, NULL);
		dec = EVP_PKEY_CTX_new(key, NULL);
		ok = enc && dec && EVP_PKEY_derive_init(enc) == 1 &&
		     EVP_PKEY_derive_set_peer(enc, pub) == 1 &&
		     EVP_PKEY_derive(enc, a, &a_len) == 1 && EVP_PKEY_derive_init(dec) == 1 &&
		     EVP_PKEY_derive_set_peer(dec, eph) == 1 &&
		     EVP_PKEY_derive(dec, b, &b_len) == 1 && a_len == b_len &&
		     memcmp(a, b, a_len) == 0;
	} else {
		return -1; /* no decryption test for this key type (SM2) */
	}
	EVP_PKEY_CTX_free(enc);
	EVP_PKEY_CTX_free(dec);
	EVP_PKEY_free(eph);
	return ok;
}

static void run_selftest(struct p11_job *j, PKCS11_SLOT *slot)
{
	PKCS11_KEY *keys = NULL;
	unsigned n = 0;
	X509 *sc = cert_of(&j->sign_cert), *ec = cert_of(&j->enc_cert);
	EVP_PKEY *sk, *ek;

	j->sign_ok = j->decrypt_ok = -1;
	if (PKCS11_enumerate_keys(slot->token, &keys, &n) < 0)
		n = 0;
	sk = key_for(keys, n, &j->sign_cert);
	ek = key_for(keys, n, &j->enc_cert);
	j->sign_ok = sign_test(sk, sc);
	j->decrypt_ok = decrypt_test(ek, ec);
	/* A key that exists but whose operations the token refuses failed. */
	if (j->sign_cert.der && !sk)
		j->sign_ok = 0;
	if (j->enc_cert.der && !ek)
		j->decrypt_ok = 0;
	EVP_PKEY_free(sk);
	EVP_PKEY_free(ek);
	X509_free(sc);
	X509_free(ec);
	ERR_clear_error();
}

/* One login, never retried, then the operation. */
static void run_job(struct p11_worker *w, struct p11_job *j)
{
	bool so = j->kind == P11_JOB_UNLOCK;
	CK_TOKEN_INFO info;
	PKCS11_SLOT *slot;
	CK_SLOT_ID id;
	CK_RV rv;

	j->outcome = P11_JOB_TOKEN_REMOVED;
	if (!w->fl)
		return;
	slot = find_slot(w, j->serial);
	if (!slot) {
		refresh_libp11_slots(w); /* the last enumeration may have failed */
		slot = find_slot(w, j->serial);
	}
	if (!slot)
		return;
	id = PKCS11_get_slotid_from_slot(slot);
	/* Fresh flags: libp11's copy is as old as the last enumeration. */
	rv = w->fl->C_GetTokenInfo(id, &info);
	if (rv != CKR_OK) {
		j->rv = rv;
		j->outcome = removed_or_failed(rv);
		return;
	}
	j->outcome = lockout_guard(j, info.flags);
	if (j->outcome != P11_JOB_DONE)
		goto flags;

	/* R/W before any login: an SO login fails while a read-only session
	 * exists (libp11 pitfall), and C_SetPIN/C_InitPIN need R/W anyway. */
	if (PKCS11_open_session(slot, 1) < 0 || PKCS11_login(slot, so, j->pin->data) < 0) {
		j->rv = last_ck_rv();
		j->outcome = outcome_of(j->rv);
		goto flags;
	}
	if (j->kind == P11_JOB_CHANGE_PIN &&
	    PKCS11_change_pin(slot, j->pin->data, j->new_pin->data) < 0) {
		j->rv = last_ck_rv();
		j->outcome = removed_or_failed(j->rv);
	} else if (j->kind == P11_JOB_UNLOCK &&
		   PKCS11_init_pin(slot->token, j->new_pin->data) < 0) {
		j->rv = last_ck_rv();
		j->outcome = removed_or_failed(j->rv);
	} else if (j->kind == P11_JOB_SELFTEST) {
		run_selftest(j, slot);
	} else if (j->kind == P11_JOB_READ_PRIVATE) {
		j->rv = read_private_objects(w, id, j);
		if (j->rv != CKR_OK)
			j->outcome = removed_or_failed(j->rv);
	}
	(void)PKCS11_logout(slot);
	ERR_clear_error();
flags:
	if (w->fl->C_GetTokenInfo(id, &info) == CKR_OK) {
		j->user_pin = pin_state(info.flags, false);
		j->so_pin = pin_state(info.flags, true);
		/* A wrong PIN on the final try: say what it did. */
		if (j->outcome == P11_JOB_WRONG_PIN &&
		    (so ? j->so_pin : j->user_pin) == UKEY_PIN_LOCKED)
			j->outcome = P11_JOB_PIN_LOCKED;
	}
}

static void *worker_main(void *arg)
{
	struct p11_worker *w = arg;
	uint64_t done = 0;

	for (;;) {
		struct p11_scan_result *r;
		uint64_t target, one = 1;

		struct p11_job *job;

		pthread_mutex_lock(&w->lock);
		while (!w->quit && w->requested == done && !w->jobs)
			pthread_cond_wait(&w->wake, &w->lock);
		if (w->quit) {
			pthread_mutex_unlock(&w->lock);
			break;
		}
		job = w->jobs;
		if (job)
			w->jobs = job->next;
		target = w->requested;
		pthread_mutex_unlock(&w->lock);

		if (job) {
			job->next = NULL;
			run_job(w, job);
			/* Re-reading releases libp11's slots, and with them the
			 * copy of the PIN libp11 keeps after a login. */
			job->scan = worker_scan(w);
			pthread_mutex_lock(&w->lock);
			struct p11_job **tail = &w->jobs_done;
			while (*tail)
				tail = &(*tail)->next;
			*tail = job;
			pthread_mutex_unlock(&w->lock);
			if (write(w->event_fd, &one, sizeof(one)) < 0)
				log_error("%s: cannot wake the event loop: %m", w->module);
			continue;
		}

		r = worker_scan(w);
		if (!r)
			continue; /* out of memory: the next request tries again */
		r->seq = target;
		done = target;
		pthread_mutex_lock(&w->lock);
		p11_scan_result_free(w->done);
		w->done = r;
		pthread_mutex_unlock(&w->lock);
		if (write(w->event_fd, &one, sizeof(one)) < 0)
			log_error("%s: cannot wake the event loop: %m", w->module);
	}
	worker_unload(w);
	return NULL;
}

int p11_worker_start(const char *module_path, const struct ca_profiles *profiles,
		     struct p11_worker **ret_worker)
{
	struct p11_worker *w = calloc(1, sizeof(*w));
	int r;

	if (!w)
		return -ENOMEM;
	w->event_fd = -1;
	w->slot_event_fd = -1;
	w->profiles = profiles;
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->wake, NULL);
	w->module = strdup(module_path);
	if (!w->module) {
		p11_worker_free(w);
		return -ENOMEM;
	}
	w->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	w->slot_event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->event_fd < 0 || w->slot_event_fd < 0) {
		r = -errno;
		p11_worker_free(w);
		return r;
	}
	w->requested = 1; /* the initial scan */
	r = pthread_create(&w->thread, NULL, worker_main, w);
	if (r != 0) {
		p11_worker_free(w);
		return -r;
	}
	w->thread_started = true;
	*ret_worker = w;
	return 0;
}

void p11_worker_free(struct p11_worker *w)
{
	if (!w)
		return;
	if (w->thread_started) {
		pthread_mutex_lock(&w->lock);
		w->quit = true;
		pthread_cond_signal(&w->wake);
		pthread_mutex_unlock(&w->lock);
		pthread_join(w->thread, NULL);
	}
	/* The worker finalized the module, which wakes the slot waiter. A
	 * module that does not is left to it: the thread holds nothing of
	 * ours but its eventfd, which then stays open. */
	if (w->slot_thread_started) {
		struct timespec deadline;

		clock_gettime(CLOCK_REALTIME, &deadline);
		deadline.tv_sec += 2;
		if (pthread_timedjoin_np(w->slot_thread, NULL, &deadline) != 0) {
			log_warning("%s: still waiting for slot events after C_Finalize; left "
				    "behind",
				    w->module);
			pthread_detach(w->slot_thread);
			w->slot_event_fd = -1;
		}
	}
	if (w->slot_event_fd >= 0)
		close(w->slot_event_fd);
	p11_scan_result_free(w->done);
	while (w->jobs) {
		struct p11_job *j = w->jobs;
		w->jobs = j->next;
		p11_job_free(j);
	}
	while (w->jobs_done) {
		struct p11_job *j = w->jobs_done;
		w->jobs_done = j->next;
		p11_job_free(j);
	}
	if (w->event_fd >= 0)
		close(w->event_fd);
	pthread_cond_destroy(&w->wake);
	pthread_mutex_destroy(&w->lock);
	free(w->module);
	free(w);
}

const char *p11_worker_get_module(const struct p11_worker *w)
{
	return w->module;
}

int p11_worker_get_fd(const struct p11_worker *w)
{
	return w->event_fd;
}

int p11_worker_get_slot_event_fd(const struct p11_worker *w)
{
	return w->slot_event_fd;
}

uint64_t p11_worker_request_scan(struct p11_worker *w)
{
	uint64_t seq;

	pthread_mutex_lock(&w->lock);
	seq = ++w->requested;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
	return seq;
}

struct p11_scan_result *p11_worker_take_result(struct p11_worker *w)
{
	struct p11_scan_result *r;
	uint64_t v;

	if (read(w->event_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		log_error("%s: reading the worker's eventfd failed: %m", w->module);
	pthread_mutex_lock(&w->lock);
	r = w->done;
	w->done = NULL;
	pthread_mutex_unlock(&w->lock);
	return r;
}

void p11_worker_submit(struct p11_worker *w, struct p11_job *job)
{
	struct p11_job **tail;

	job->next = NULL;
	pthread_mutex_lock(&w->lock);
	for (tail = &w->jobs; *tail; tail = &(*tail)->next)
		;
	*tail = job;
	pthread_cond_signal(&w->wake);
	pthread_mutex_unlock(&w->lock);
}

struct p11_job *p11_worker_take_jobs(struct p11_worker *w)
{
	struct p11_job *jobs;

	pthread_mutex_lock(&w->lock);
	jobs = w->jobs_done;
	w->jobs_done = NULL;
	pthread_mutex_unlock(&w->lock);
	return jobs;
}
