/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "wire-names.h"

#include "util.h"

static const char *name_of(const char *const *names, size_t n, int v)
{
	return v >= 0 && (size_t)v < n && names[v] ? names[v] : "";
}

static int value_of(const char *const *names, size_t n, const char *name, int fallback)
{
	for (size_t i = 0; name && i < n; i++)
		if (names[i] && streq_ptr(names[i], name))
			return (int)i;
	return fallback;
}

/* The pair of lookups for one table, as systemd's string tables do. */
#define WIRE_NAMES(what, type, fallback)                                                           \
	const char *ukey_wire_##what##_name(type v)                                                \
	{                                                                                          \
		return name_of(what##_names, ARRAY_SIZE(what##_names), (int)v);                    \
	}                                                                                          \
	type ukey_wire_##what##_parse(const char *name)                                            \
	{                                                                                          \
		return (type)value_of(what##_names, ARRAY_SIZE(what##_names), name, fallback);     \
	}

static const char *const pin_state_names[] = {
	[UKEY_PIN_OK] = "ok",
	[UKEY_PIN_COUNT_LOW] = "count_low",
	[UKEY_PIN_FINAL_TRY] = "final_try",
	[UKEY_PIN_LOCKED] = "locked",
};
WIRE_NAMES(pin_state, enum ukey_pin_state, UKEY_PIN_OK)

static const char *const cert_usage_names[] = {
	[UKEY_CERT_USAGE_UNKNOWN] = "unknown",
	[UKEY_CERT_USAGE_SIGN] = "sign",
	[UKEY_CERT_USAGE_ENCRYPT] = "encrypt",
	[UKEY_CERT_USAGE_SIGN_ENCRYPT] = "sign_encrypt",
};
WIRE_NAMES(cert_usage, enum ukey_cert_usage, UKEY_CERT_USAGE_UNKNOWN)

static const char *const cert_expiry_names[] = {
	[UKEY_CERT_VALID] = "valid",
	[UKEY_CERT_RENEWAL_WINDOW] = "renewal_window",
	[UKEY_CERT_EXPIRED] = "expired",
	[UKEY_CERT_NOT_YET_VALID] = "not_yet_valid",
};
WIRE_NAMES(cert_expiry, enum ukey_cert_expiry, UKEY_CERT_MALFORMED)

static const char *const key_pair_names[] = {
	[UKEY_KEY_PAIR_ABSENT] = "absent",
	[UKEY_KEY_PAIR_PRESENT] = "present",
	[UKEY_KEY_PAIR_UNKNOWN] = "unknown",
};
WIRE_NAMES(key_pair, enum ukey_key_pair, UKEY_KEY_PAIR_UNKNOWN)

static const char *const holder_kind_names[] = {
	[UKEY_HOLDER_UNKNOWN] = "unknown",
	[UKEY_HOLDER_UNIT] = "unit",
	[UKEY_HOLDER_PERSON] = "person",
};
WIRE_NAMES(holder_kind, enum ukey_holder_kind, UKEY_HOLDER_UNKNOWN)

static const char *const role_names[] = {
	[UKEY_ROLE_PRIMARY] = "primary",
	[UKEY_ROLE_SECONDARY] = "secondary",
};
WIRE_NAMES(role, enum ukey_role, UKEY_ROLE_UNKNOWN)

static const char *const seal_kind_names[] = {
	[UKEY_SEAL_OTHER] = "other",
	[UKEY_SEAL_OFFICIAL] = "official",
	[UKEY_SEAL_LEGAL_REP] = "legal_rep",
	[UKEY_SEAL_SIGNATURE] = "signature",
};
WIRE_NAMES(seal_kind, enum ukey_seal_kind, UKEY_SEAL_OTHER)

static const char *const seal_status_names[] = {
	[UKEY_SEAL_VALID] = "valid",
	[UKEY_SEAL_EXPIRED] = "expired",
	[UKEY_SEAL_NOT_YET_VALID] = "not_yet_valid",
	[UKEY_SEAL_BAD_SIGNATURE] = "bad_signature",
	[UKEY_SEAL_MAKER_CERT_EXPIRED] = "maker_cert_expired",
	[UKEY_SEAL_NOT_BOUND] = "not_bound",
	[UKEY_SEAL_MALFORMED] = "malformed",
};
WIRE_NAMES(seal_status, enum ukey_seal_status, UKEY_SEAL_MALFORMED)

static const char *const verdict_names[] = {
	[UKEY_READY] = "ready",
	[UKEY_READY_WITH_WARNINGS] = "ready_with_warnings",
	[UKEY_NOT_READY] = "not_ready",
};
WIRE_NAMES(verdict, enum ukey_verdict, UKEY_NOT_READY)

static const char *const severity_names[] = {
	[UKEY_SEVERITY_INFO] = "info",
	[UKEY_SEVERITY_WARNING] = "warning",
	[UKEY_SEVERITY_ERROR] = "error",
};
WIRE_NAMES(severity, enum ukey_severity, UKEY_SEVERITY_INFO)

static const char *const event_names[] = {
	[UKEY_EVENT_TOKEN_ADDED] = "token_added",
	[UKEY_EVENT_TOKEN_REMOVED] = "token_removed",
	[UKEY_EVENT_TOKEN_CHANGED] = "token_changed",
	[UKEY_EVENT_CERT_EXPIRY] = "cert_expiry",
};
WIRE_NAMES(event, enum ukey_event_type, 0)
