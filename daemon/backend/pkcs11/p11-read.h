/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Objects read into token records through a module's own function list,
 * in an open session: what a scan reads without login, and what a PIN
 * job reads while logged in. Sizes are bounded: a token cannot make us
 * hold more than MAX_OBJECT_VALUE per value. */
#pragma once

#include <p11-kit/pkcs11.h>
#include <stdbool.h>

struct token;

/* Certificates, with their CKA_ID and label. */
CK_RV p11_read_certs(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, struct token *t);

/* Key objects of a class, with what they show of the key, for pairing
 * certificates with their keys. */
CK_RV p11_read_keys(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, struct token *t,
		    CK_OBJECT_CLASS cls);

/* Data objects with their values; only the private ones when
 * private_only (which needs a logged-in session to find any). */
CK_RV p11_read_data_objects(CK_FUNCTION_LIST_PTR fl, CK_SESSION_HANDLE s, struct token *t,
			    bool private_only);
