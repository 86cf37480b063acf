/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The shape of a method's parameters, checked once before its handler
 * runs (in the manner of systemd's JSON dispatch tables): each member's
 * JSON type, whether it must be there, and, where the type says too
 * little, its format. Members a method does not know are ignored, so a
 * newer client may send more.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum param_type {
	PARAM_STRING,
	PARAM_SERIAL, /* a non-empty string */
	PARAM_PIN,    /* a string that holds a PIN: wiped after the request */
	PARAM_INT,    /* an integer >= 0 */
	PARAM_BOOL,
	PARAM_RECIPIENTS, /* [{"issuer_der","serial"} or {"skid"}], hex strings */
};

struct param_spec {
	const char *name;
	enum param_type type;
	bool required;
	int64_t min, max; /* PARAM_INT: when max > 0, within [min, max] */
};

/* A table ends with {NULL}. Returns true, or false with why in buf (for
 * an invalid_request reply). */
bool params_check(const struct param_spec *specs, json_object *params, char *buf, size_t size);

/* Typed reads of members that params_check() has seen. Absent members
 * give NULL, def and false. */
const char *param_string(json_object *params, const char *name);
int64_t param_int(json_object *params, const char *name, int64_t def);
bool param_bool(json_object *params, const char *name);
