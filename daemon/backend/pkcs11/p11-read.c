/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "p11-read.h"

#include <stdlib.h>

#include "log.h"
#include "text-decode.h"
#include "token.h"
#include "util.h"

/* Bounds on what one token may make us hold in memory. */
#define MAX_OBJECT_VALUE (8u * 1024u * 1024u)
#define MAX_OBJECTS_PER_CLASS 1024u

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

CK_RV p11_read_certs(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, struct token *t)
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
CK_RV p11_read_keys(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, struct token *t,
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

CK_RV p11_read_data_objects(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, struct token *t,
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
