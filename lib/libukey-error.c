/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "libukey-private.h"
#include "proto.h"
#include "util.h"
#include "wire-names.h"

UKEY_EXPORT const char *ukey_strerror(enum ukey_error err)
{
	static const char *const names[] = {
		[UKEY_OK] = "success",
		[UKEY_E_INVALID_ARGUMENT] = "invalid argument",
		[UKEY_E_NO_MEMORY] = "out of memory",
		[UKEY_E_UNREACHABLE] = "ukeyd is not reachable",
		[UKEY_E_DISCONNECTED] = "ukeyd closed the connection",
		[UKEY_E_PROTOCOL] = "malformed message from ukeyd",
		[UKEY_E_VERSION] = "ukeyd speaks an unsupported protocol version",
		[UKEY_E_TIMEOUT] = "ukeyd did not answer in time",
		[UKEY_E_NOT_FOUND] = "no such token",
		[UKEY_E_DAEMON] = "ukeyd failed the request",
		[UKEY_E_REFUSED] = "ukeyd refused the request",
		[UKEY_E_PIN_INCORRECT] = "wrong PIN",
		[UKEY_E_PIN_LOCKED] = "the PIN is locked",
		[UKEY_E_PIN_POLICY] = "the new PIN is refused by the PIN policy",
		[UKEY_E_LOCKOUT_GUARD] = "not attempted: it could lock the token",
		[UKEY_E_PERMISSION] = "permission denied",
		[UKEY_E_TOKEN_REMOVED] = "the token was removed",
		[UKEY_E_TOKEN] = "the token failed the operation",
		[UKEY_E_BUSY] = "ukeyd is overloaded (too many connections) or still reading the "
				"tokens; try again",
		[UKEY_E_NOT_CMS] = "not an encrypted bid file (CMS)",
		[UKEY_E_AUDIT] = "the audit log cannot be written: PIN operations are refused",
		[UKEY_E_RETRY_LATER] = "a wrong PIN was entered lately: wait before the next try",
	};

	if ((unsigned)err < ARRAY_SIZE(names) && names[err])
		return names[err];
	return "unknown error";
}

UKEY_EXPORT const char *ukey_pin_state_to_string(enum ukey_pin_state state)
{
	return ukey_wire_pin_state_name(state);
}
