/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Objects read into token records through a module's own function list,
 * in an open session, in as few calls as PKCS#11 allows (each one may
 * take 10-50 ms on a real token): one search for every object, then one
 * C_GetAttributeValue per object with every attribute ukeyd wants, into
 * buffers big enough for what tokens hold; only an attribute larger than
 * that costs two more calls. Sizes are bounded: a token cannot make us
 * hold more than 8 MiB per value. A length is believed only when it fits
 * the buffer it describes (a value is never read past, nor taken from
 * bytes the module did not write).
 */
#pragma once

#include <p11-kit/pkcs11.h>

struct token;

/* Every object the session shows: certificates, data objects, key
 * objects (other classes are skipped). */
CK_RV p11_read_session_objects(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, struct token *t);

/* The private data objects only (a logged-in session). */
CK_RV p11_read_session_private_data(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, struct token *t);
