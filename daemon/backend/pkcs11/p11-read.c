/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "p11-read.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "text-decode.h"
#include "token.h"
#include "util.h"

/* Bounds on what one token may make us hold in memory. */
#define MAX_OBJECT_VALUE (8u * 1024u * 1024u)
#define MAX_OBJECTS 1024u

/* Room tried at first: certificates and seals fit (a real seal with its
 * picture is some 5-60 KiB); a larger value costs a size query. */
#define VALUE_ROOM (64u * 1024u)
#define TEXT_ROOM 1024u

/* The attributes read of every object, in template order. */
enum { A_CLASS, A_KEY_TYPE, A_ID, A_LABEL, A_APPLICATION, A_VALUE, A_MODULUS, A_EC_POINT, A_N };

static const CK_ATTRIBUTE_TYPE wanted[A_N] = {
	[A_CLASS] = CKA_CLASS,	   [A_KEY_TYPE] = CKA_KEY_TYPE,	      [A_ID] = CKA_ID,
	[A_LABEL] = CKA_LABEL,	   [A_APPLICATION] = CKA_APPLICATION, [A_VALUE] = CKA_VALUE,
	[A_MODULUS] = CKA_MODULUS, [A_EC_POINT] = CKA_EC_POINT,
};

static const CK_ULONG room[A_N] = {
	[A_CLASS] = sizeof(CK_OBJECT_CLASS),
	[A_KEY_TYPE] = sizeof(CK_KEY_TYPE),
	[A_ID] = 256,
	[A_LABEL] = TEXT_ROOM,
	[A_APPLICATION] = TEXT_ROOM,
	[A_VALUE] = VALUE_ROOM,
	[A_MODULUS] = 1024, /* RSA up to 8192 bits */
	[A_EC_POINT] = 256,
};

/* One object's attributes; buf[i] holds len[i] bytes, or is NULL when the
 * object lacks the attribute (or keeps it secret). */
struct attrs {
	uint8_t *buf[A_N];
	CK_ULONG len[A_N];
};

static void attrs_release(struct attrs *a)
{
	for (int i = 0; i < A_N; i++)
		free(a->buf[i]);
	*a = (struct attrs){0};
}

/* Whether a C_GetAttributeValue result still filled what it could: these
 * three are no errors for a template (PKCS#11 2.40, 5.7). */
static bool template_processed(CK_RV rv)
{
	return rv == CKR_OK || rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
	       rv == CKR_BUFFER_TOO_SMALL;
}

/* Attribute i is not (or no longer) held. */
static void drop(struct attrs *a, int i)
{
	free(a->buf[i]);
	a->buf[i] = NULL;
	a->len[i] = 0;
}

/*
 * A length is believed only when it fits the buffer it describes: a module
 * that does not follow PKCS#11 may report, beside CKR_BUFFER_TOO_SMALL, the
 * length it needed instead of CK_UNAVAILABLE_INFORMATION, or more than it
 * wrote. Such a value was not read: its size is asked again and it is read
 * into a buffer of that size, MAX_SIZE_ROUNDS times at most (a value may
 * also grow between two calls). A module that never settles gets the
 * object skipped (CKR_BUFFER_TOO_SMALL from the readers below).
 */
#define MAX_SIZE_ROUNDS 3

static bool fits(const CK_ATTRIBUTE *t, CK_ULONG capacity)
{
	return t->ulValueLen != CK_UNAVAILABLE_INFORMATION && t->ulValueLen <= capacity;
}

/* A module that stops at the first attribute it lacks, instead of going
 * through the template, reads one attribute per call: slower, but right. */
static CK_RV read_one_by_one(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
			     struct attrs *a)
{
	for (int i = 0; i < A_N; i++) {
		for (int round = 0;; round++) {
			CK_ATTRIBUTE at = {wanted[i], NULL, 0};
			CK_ULONG capacity;
			CK_RV rv;

			if (round == MAX_SIZE_ROUNDS)
				return CKR_BUFFER_TOO_SMALL;
			rv = fl->C_GetAttributeValue(s, o, &at, 1);
			if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
			    at.ulValueLen == CK_UNAVAILABLE_INFORMATION)
				break;
			if (rv != CKR_OK)
				return rv;
			if (at.ulValueLen > MAX_OBJECT_VALUE)
				return CKR_DEVICE_MEMORY;
			capacity = at.ulValueLen;
			a->buf[i] = malloc(capacity + 1);
			if (!a->buf[i])
				return CKR_HOST_MEMORY;
			at.pValue = a->buf[i];
			at.ulValueLen = capacity;
			rv = fl->C_GetAttributeValue(s, o, &at, 1);
			if (rv == CKR_OK && fits(&at, capacity)) {
				a->len[i] = at.ulValueLen;
				break;
			}
			drop(a, i);
			if (rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID)
				break;
			if (rv != CKR_OK && rv != CKR_BUFFER_TOO_SMALL)
				return rv;
			/* Larger than its size said: ask again. */
		}
	}
	return CKR_OK;
}

/* Asks the sizes of the attributes marked unread, then reads those into
 * buffers of their size; what still does not fit is marked unread again.
 * Returns CKR_OK or what failed. */
static CK_RV read_unread(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
			 struct attrs *a, bool unread[A_N])
{
	CK_ATTRIBUTE t[A_N], v[A_N];
	int at_t[A_N], at_v[A_N]; /* which attribute each template entry is */
	CK_ULONG capacity[A_N];	  /* v[k]'s buffer */
	CK_RV rv;
	int n = 0, m = 0;

	for (int i = 0; i < A_N; i++)
		if (unread[i]) {
			at_t[n] = i;
			t[n++] = (CK_ATTRIBUTE){wanted[i], NULL, 0};
		}
	rv = fl->C_GetAttributeValue(s, o, t, (CK_ULONG)n);
	if (!template_processed(rv))
		return rv;
	for (int k = 0; k < n; k++) {
		int i = at_t[k];

		unread[i] = false;
		if (t[k].ulValueLen == CK_UNAVAILABLE_INFORMATION)
			continue; /* absent, or secret */
		if (t[k].ulValueLen > MAX_OBJECT_VALUE)
			return CKR_DEVICE_MEMORY;
		a->buf[i] = malloc(t[k].ulValueLen + 1);
		if (!a->buf[i])
			return CKR_HOST_MEMORY;
		at_v[m] = i;
		capacity[m] = t[k].ulValueLen;
		v[m] = (CK_ATTRIBUTE){wanted[i], a->buf[i], capacity[m]};
		m++;
	}
	if (m == 0)
		return CKR_OK;
	rv = fl->C_GetAttributeValue(s, o, v, (CK_ULONG)m);
	if (!template_processed(rv))
		return rv;
	for (int k = 0; k < m; k++) {
		int i = at_v[k];

		if (fits(&v[k], capacity[k])) {
			a->len[i] = v[k].ulValueLen;
			continue;
		}
		drop(a, i);
		/* Grown since its size was asked, or misreported; or gone. */
		unread[i] = v[k].ulValueLen != CK_UNAVAILABLE_INFORMATION || rv != CKR_OK;
	}
	return CKR_OK;
}

static bool any(const bool v[A_N])
{
	for (int i = 0; i < A_N; i++)
		if (v[i])
			return true;
	return false;
}

static CK_ULONG ulong_attr(const struct attrs *a, int i, CK_ULONG def)
{
	CK_ULONG v;

	if (!a->buf[i] || a->len[i] != sizeof(v))
		return def;
	memcpy(&v, a->buf[i], sizeof(v));
	return v;
}

/* Whether add_object() keeps attribute i of an object of a's class. */
static bool kept(const struct attrs *a, int i)
{
	CK_OBJECT_CLASS cls = ulong_attr(a, A_CLASS, CK_UNAVAILABLE_INFORMATION);
	CK_KEY_TYPE type = ulong_attr(a, A_KEY_TYPE, CK_UNAVAILABLE_INFORMATION);

	switch (cls) {
	case CKO_CERTIFICATE:
		return i == A_VALUE || i == A_ID || i == A_LABEL;
	case CKO_DATA:
		return i == A_VALUE || i == A_LABEL || i == A_APPLICATION;
	case CKO_PUBLIC_KEY:
	case CKO_PRIVATE_KEY:
		return i == A_ID || (i == A_MODULUS && type == CKK_RSA) ||
		       (i == A_EC_POINT && type == CKK_EC && cls == CKO_PUBLIC_KEY);
	default:
		return false;
	}
}

/* Every wanted attribute of an object: one call when they fit the room
 * given, three when one does not. CKR_DEVICE_MEMORY: a value past the
 * bound; CKR_BUFFER_TOO_SMALL: a module whose lengths never fit what it
 * filled (the object is skipped either way). */
static CK_RV read_attrs(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_OBJECT_HANDLE o,
			struct attrs *a)
{
	CK_ATTRIBUTE t[A_N];
	bool unread[A_N] = {false};
	CK_RV rv;

	for (int i = 0; i < A_N; i++) {
		a->buf[i] = malloc(room[i] + 1);
		if (!a->buf[i])
			return CKR_HOST_MEMORY;
		t[i] = (CK_ATTRIBUTE){wanted[i], a->buf[i], room[i]};
	}
	rv = fl->C_GetAttributeValue(s, o, t, A_N);
	if (!template_processed(rv))
		return rv;
	if (rv != CKR_OK && t[A_CLASS].ulValueLen == CK_UNAVAILABLE_INFORMATION) {
		attrs_release(a);
		return read_one_by_one(fl, s, o, a);
	}
	for (int i = 0; i < A_N; i++) {
		uint8_t *fit;

		if (!fits(&t[i], room[i])) {
			drop(a, i);
			unread[i] = t[i].ulValueLen != CK_UNAVAILABLE_INFORMATION;
			continue;
		}
		a->len[i] = t[i].ulValueLen;
		/* The cache keeps values: not the room they were read into. */
		if ((fit = realloc(a->buf[i], a->len[i] + 1)))
			a->buf[i] = fit;
	}
	/* After an error, an attribute left unavailable is absent, secret, or
	 * too large for its buffer, and the module returns any one of the
	 * errors that apply (SoftHSM: CKR_ATTRIBUTE_TYPE_INVALID before
	 * CKR_BUFFER_TOO_SMALL, and every object lacks some wanted attribute):
	 * the sizes of those the object's class keeps are asked. */
	if (rv != CKR_OK)
		for (int i = 0; i < A_N; i++)
			if (!a->buf[i] && kept(a, i))
				unread[i] = true;
	for (int round = 0; any(unread); round++) {
		if (round == MAX_SIZE_ROUNDS)
			return CKR_BUFFER_TOO_SMALL;
		rv = read_unread(fl, s, o, a, unread);
		if (rv != CKR_OK)
			return rv;
	}
	return CKR_OK;
}

/* Moves attribute i out of a, NUL-terminated (text stays text). */
static uint8_t *take(struct attrs *a, int i, size_t *ret_len)
{
	uint8_t *p = a->buf[i];

	if (p)
		p[a->len[i]] = 0;
	if (ret_len)
		*ret_len = p ? a->len[i] : 0;
	a->buf[i] = NULL;
	return p;
}

static char *take_text(struct attrs *a, int i)
{
	return text_decode(a->buf[i] ? a->buf[i] : (const uint8_t *)"", a->buf[i] ? a->len[i] : 0);
}

/* Grows an array of records by one; NULL on ENOMEM. */
static void *grow(void *array, size_t n, size_t size)
{
	uint8_t *p = realloc(array, (n + 1) * size);

	if (p)
		memset(p + n * size, 0, size);
	return p;
}

static CK_RV add_object(struct token *t, struct attrs *a)
{
	CK_OBJECT_CLASS cls = ulong_attr(a, A_CLASS, CK_UNAVAILABLE_INFORMATION);

	switch (cls) {
	case CKO_CERTIFICATE: {
		struct token_cert *c = grow(t->certs, t->n_certs, sizeof(*c));
		if (!c)
			return CKR_HOST_MEMORY;
		t->certs = c;
		c = &t->certs[t->n_certs++]; /* token_unref() releases partial entries too */
		c->der = take(a, A_VALUE, &c->der_len);
		c->id = take(a, A_ID, &c->id_len);
		c->label = take_text(a, A_LABEL);
		return c->label ? CKR_OK : CKR_HOST_MEMORY;
	}
	case CKO_DATA: {
		struct token_object *d = grow(t->objects, t->n_objects, sizeof(*d));
		if (!d)
			return CKR_HOST_MEMORY;
		t->objects = d;
		d = &t->objects[t->n_objects++];
		d->value = take(a, A_VALUE, &d->value_len);
		d->label = take_text(a, A_LABEL);
		d->application = take_text(a, A_APPLICATION);
		return d->label && d->application ? CKR_OK : CKR_HOST_MEMORY;
	}
	case CKO_PUBLIC_KEY:
	case CKO_PRIVATE_KEY: {
		CK_KEY_TYPE type = ulong_attr(a, A_KEY_TYPE, CK_UNAVAILABLE_INFORMATION);
		struct token_key *k = grow(t->keys, t->n_keys, sizeof(*k));
		if (!k)
			return CKR_HOST_MEMORY;
		t->keys = k;
		k = &t->keys[t->n_keys++];
		k->is_private = cls == CKO_PRIVATE_KEY;
		k->id = take(a, A_ID, &k->id_len);
		if (type == CKK_RSA)
			k->modulus = take(a, A_MODULUS, &k->modulus_len);
		if (type == CKK_EC && cls == CKO_PUBLIC_KEY)
			k->ec_point = take(a, A_EC_POINT, &k->ec_point_len);
		return CKR_OK;
	}
	default:
		return CKR_OK; /* secret keys, profiles, ...: nothing for ukeyd */
	}
}

/* The objects a search template finds, in one C_FindObjects where they
 * fit (MAX_OBJECTS). */
static CK_RV find(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl, CK_ULONG n_tmpl,
		  CK_OBJECT_HANDLE **ret, size_t *ret_n)
{
	_cleanup_free_ CK_OBJECT_HANDLE *handles = NULL;
	size_t n = 0;
	CK_RV rv;

	handles = calloc(MAX_OBJECTS, sizeof(*handles));
	if (!handles)
		return CKR_HOST_MEMORY;
	rv = fl->C_FindObjectsInit(s, tmpl, n_tmpl);
	if (rv != CKR_OK)
		return rv;
	while (n < MAX_OBJECTS) {
		CK_ULONG want = MAX_OBJECTS - n, got = 0;
		rv = fl->C_FindObjects(s, handles + n, want, &got);
		if (rv != CKR_OK)
			break;
		n += got;
		/* Fewer than asked for: that was all of them. */
		if (got < want)
			break;
	}
	fl->C_FindObjectsFinal(s);
	if (rv != CKR_OK)
		return rv;
	*ret = TAKE_PTR(handles);
	*ret_n = n;
	return CKR_OK;
}

static CK_RV read_found(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, CK_ATTRIBUTE *tmpl,
			CK_ULONG n_tmpl, struct token *t)
{
	_cleanup_free_ CK_OBJECT_HANDLE *h = NULL;
	size_t n = 0;
	CK_RV rv;

	rv = find(fl, s, tmpl, n_tmpl, &h, &n);
	for (size_t i = 0; rv == CKR_OK && i < n; i++) {
		struct attrs a = {0};

		rv = read_attrs(fl, s, h[i], &a);
		if (rv == CKR_DEVICE_MEMORY) {
			log_warning("%s: token %s: an object too large to read, skipped", t->module,
				    t->serial);
			rv = CKR_OK;
		} else if (rv == CKR_BUFFER_TOO_SMALL) {
			log_warning("%s: token %s: an object whose attribute lengths the module "
				    "misreports, skipped",
				    t->module, t->serial);
			rv = CKR_OK;
		} else if (rv == CKR_OK) {
			rv = add_object(t, &a);
		}
		attrs_release(&a);
	}
	return rv;
}

CK_RV p11_read_session_objects(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, struct token *t)
{
	return read_found(fl, s, NULL, 0, t);
}

CK_RV p11_read_session_private_data(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, struct token *t)
{
	CK_OBJECT_CLASS cls = CKO_DATA;
	CK_BBOOL yes = CK_TRUE;
	CK_ATTRIBUTE tmpl[] = {{CKA_CLASS, &cls, sizeof(cls)}, {CKA_PRIVATE, &yes, sizeof(yes)}};

	return read_found(fl, s, tmpl, 2, t);
}
