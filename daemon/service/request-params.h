/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shape of a method's parameters, checked once before its handler
 * runs (in the manner of systemd's JSON dispatch tables): each member's
 * JSON type, whether it must be there, and, where the type says too
 * little, its format. Members a method does not know are ignored, so a
 * newer client may send more; a request keeps only the members its row
 * names (params_keep), so what it ignores costs nothing while it waits.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum param_type {
	PARAM_STRING,
	PARAM_SERIAL, /* a token serial: 1 to PARAM_SERIAL_MAX bytes */
	PARAM_PIN,    /* a string that holds a PIN: wiped after the request */
	PARAM_INT,    /* an integer >= 0 */
	PARAM_BOOL,
	PARAM_RECIPIENTS, /* [{"issuer_der","serial"} or {"skid"}], hex strings */
};

/* The longest serial a token can have as ukeyd lists it: SKF's 32-byte
 * field (PKCS#11's has 16), every byte of it one 3-byte character at
 * worst once decoded (GB18030, or U+FFFD for a byte that fits nothing). */
#define PARAM_SERIAL_MAX 96

struct param_spec {
	const char *name;
	enum param_type type;
	bool required;
	int64_t min, max; /* PARAM_INT: when max > 0, within [min, max] */
};

/* A table ends with {NULL}. Returns true, or false with why in buf (for
 * an invalid_request reply). */
bool params_check(const struct param_spec *specs, json_object *params, char *buf, size_t size);

/* What a request keeps of params that params_check() passed: the members
 * specs names, and of each recipient only its issuer_der, serial and skid.
 * The same object (a new reference) when it holds nothing else, a new one
 * that references the same values when it does; NULL when specs names no
 * member (nothing to keep). Returns 0, or -ENOMEM. */
int params_keep(const struct param_spec *specs, json_object *params, json_object **ret);

/* Typed reads of members that params_check() has seen. Absent members
 * give NULL, def and false. */
const char *param_string(json_object *params, const char *name);
int64_t param_int(json_object *params, const char *name, int64_t def);
bool param_bool(json_object *params, const char *name);
