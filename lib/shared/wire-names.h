/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The names of the public enums on the wire (docs/protocol.md), in one
 * place: ukeyd writes them, libukey and ukeyctl read them. A name this
 * side does not know parses as the enum's fallback, so an older libukey
 * reads a newer ukeyd.
 */
#pragma once

#include "ukey/ukey.h"

/* "ok", "count_low", "final_try", "locked"; fallback UKEY_PIN_OK. */
const char *ukey_wire_pin_state_name(enum ukey_pin_state v);
enum ukey_pin_state ukey_wire_pin_state_parse(const char *name);

/* "unknown", "sign", "encrypt", "sign_encrypt"; fallback unknown. */
const char *ukey_wire_cert_usage_name(enum ukey_cert_usage v);
enum ukey_cert_usage ukey_wire_cert_usage_parse(const char *name);

/* "valid", "renewal_window", "expired", "not_yet_valid". A malformed
 * certificate has no expiry state on the wire ("malformed": true), so
 * UKEY_CERT_MALFORMED names nothing and is the fallback. */
const char *ukey_wire_cert_expiry_name(enum ukey_cert_expiry v);
enum ukey_cert_expiry ukey_wire_cert_expiry_parse(const char *name);

/* "absent", "present", "unknown"; fallback unknown. */
const char *ukey_wire_key_pair_name(enum ukey_key_pair v);
enum ukey_key_pair ukey_wire_key_pair_parse(const char *name);

/* "unknown", "unit", "person"; fallback unknown. */
const char *ukey_wire_holder_kind_name(enum ukey_holder_kind v);
enum ukey_holder_kind ukey_wire_holder_kind_parse(const char *name);

/* "primary", "secondary" (a blank token has no role); fallback unknown. */
const char *ukey_wire_role_name(enum ukey_role v);
enum ukey_role ukey_wire_role_parse(const char *name);

/* "other", "official", "legal_rep", "signature"; fallback other. */
const char *ukey_wire_seal_kind_name(enum ukey_seal_kind v);
enum ukey_seal_kind ukey_wire_seal_kind_parse(const char *name);

/* "valid", "expired", "not_yet_valid", "bad_signature",
 * "maker_cert_expired", "not_bound", "malformed"; fallback malformed. */
const char *ukey_wire_seal_status_name(enum ukey_seal_status v);
enum ukey_seal_status ukey_wire_seal_status_parse(const char *name);

/* "ready", "ready_with_warnings", "not_ready"; fallback not ready: a
 * verdict this side cannot read never says "ready". */
const char *ukey_wire_verdict_name(enum ukey_verdict v);
enum ukey_verdict ukey_wire_verdict_parse(const char *name);

/* "info", "warning", "error"; fallback info. */
const char *ukey_wire_severity_name(enum ukey_severity v);
enum ukey_severity ukey_wire_severity_parse(const char *name);

/* "token_added", "token_removed", "token_changed", "cert_expiry" (the
 * connection events are libukey's own); fallback 0, no event. */
const char *ukey_wire_event_name(enum ukey_event_type v);
enum ukey_event_type ukey_wire_event_parse(const char *name);
