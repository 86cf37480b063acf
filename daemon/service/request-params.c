/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "request-params.h"

#include <stdio.h>
#include <string.h>

/* Recipients come from libukey's reading of a bid file: a few, each an
 * issuer and serial or a subject key identifier, in hex. */
#define MAX_RECIPIENTS 64

static bool is_hex(json_object *v)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return false;
	s = json_object_get_string(v);
	return strspn(s, "0123456789abcdefABCDEF") == strlen(s);
}

static bool recipients_valid(json_object *v)
{
	size_t n;

	if (!json_object_is_type(v, json_type_array) ||
	    (n = json_object_array_length(v)) > MAX_RECIPIENTS)
		return false;
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(v, i), *m;
		bool any = false;

		if (!json_object_is_type(r, json_type_object))
			return false;
		for (const char *const *k =
			     (const char *const[]){"issuer_der", "serial", "skid", NULL};
		     *k; k++) {
			if (!json_object_object_get_ex(r, *k, &m))
				continue;
			if (!is_hex(m))
				return false;
			any = true;
		}
		if (!any)
			return false;
	}
	return true;
}

static bool value_valid(const struct param_spec *p, json_object *v)
{
	switch (p->type) {
	case PARAM_STRING:
	case PARAM_PIN:
		return json_object_is_type(v, json_type_string);
	case PARAM_SERIAL:
		return json_object_is_type(v, json_type_string) &&
		       json_object_get_string_len(v) > 0;
	case PARAM_INT:
		return json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0 &&
		       (p->max == 0 ||
			(json_object_get_int64(v) >= p->min && json_object_get_int64(v) <= p->max));
	case PARAM_BOOL:
		return json_object_is_type(v, json_type_boolean);
	case PARAM_RECIPIENTS:
		return recipients_valid(v);
	}
	return false;
}

static const char *type_text(enum param_type type)
{
	switch (type) {
	case PARAM_STRING:
		return "a string";
	case PARAM_SERIAL:
		return "a token serial (a non-empty string)";
	case PARAM_PIN:
		return "a PIN (a string)";
	case PARAM_INT:
		return "a whole number >= 0";
	case PARAM_BOOL:
		return "true or false";
	case PARAM_RECIPIENTS:
		return "a list of recipients ({\"issuer_der\",\"serial\"} or {\"skid\"}, hex)";
	}
	return "?";
}

bool params_check(const struct param_spec *specs, json_object *params, char *buf, size_t size)
{
	for (const struct param_spec *p = specs; p && p->name; p++) {
		json_object *v;

		if (!json_object_object_get_ex(params, p->name, &v)) {
			if (!p->required)
				continue;
			snprintf(buf, size, "\"%s\" is needed: %s", p->name, type_text(p->type));
			return false;
		}
		if (!value_valid(p, v)) {
			if (p->type == PARAM_INT && p->max > 0)
				snprintf(buf, size,
					 "\"%s\" must be a whole number from %lld to %lld", p->name,
					 (long long)p->min, (long long)p->max);
			else
				snprintf(buf, size, "\"%s\" must be %s", p->name,
					 type_text(p->type));
			return false;
		}
	}
	return true;
}

const char *param_string(json_object *params, const char *name)
{
	json_object *v;

	if (!json_object_object_get_ex(params, name, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

int64_t param_int(json_object *params, const char *name, int64_t def)
{
	json_object *v;

	if (!json_object_object_get_ex(params, name, &v) || !json_object_is_type(v, json_type_int))
		return def;
	return json_object_get_int64(v);
}

bool param_bool(json_object *params, const char *name)
{
	json_object *v;

	return json_object_object_get_ex(params, name, &v) &&
	       json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}
