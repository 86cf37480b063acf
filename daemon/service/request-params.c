/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "request-params.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "util.h"

#define STR_(x) #x
#define STR(x) STR_(x)

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
		/* Bounded: a refusal writes it into the audit log. */
		return json_object_is_type(v, json_type_string) &&
		       json_object_get_string_len(v) > 0 &&
		       json_object_get_string_len(v) <= PARAM_SERIAL_MAX;
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
		return "a token serial (a string of 1 to " STR(PARAM_SERIAL_MAX) " bytes)";
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

static const char *const recipient_keys[] = {"issuer_der", "serial", "skid"};

/* How many of keys[0..n) obj has. */
static int count_members(json_object *obj, const char *const *keys, size_t n)
{
	int found = 0;

	for (size_t i = 0; i < n; i++)
		found += json_object_object_get_ex(obj, keys[i], NULL);
	return found;
}

/* Whether the recipients (shape checked) have no member but theirs. */
static bool recipients_clean(json_object *arr)
{
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *r = json_object_array_get_idx(arr, i);

		if (json_object_object_length(r) !=
		    count_members(r, recipient_keys, ARRAY_SIZE(recipient_keys)))
			return false;
	}
	return true;
}

/* A copy of the recipients with their own members only (the values
 * referenced, not copied); NULL on ENOMEM. */
static json_object *recipients_copy(json_object *arr)
{
	size_t n = json_object_array_length(arr);
	json_object *copy = json_object_new_array_ext((int)n);

	for (size_t i = 0; copy && i < n; i++) {
		json_object *r = json_object_array_get_idx(arr, i), *o = json_object_new_object(),
			    *v;

		if (!o || json_object_array_add(copy, o) < 0) {
			json_object_put(o);
			goto fail;
		}
		for (size_t k = 0; k < ARRAY_SIZE(recipient_keys); k++)
			if (json_object_object_get_ex(r, recipient_keys[k], &v) &&
			    json_object_object_add(o, recipient_keys[k], json_object_get(v)) < 0)
				goto fail;
	}
	return copy;
fail:
	json_object_put(copy);
	return NULL;
}

int params_keep(const struct param_spec *specs, json_object *params, json_object **ret)
{
	json_object *keep, *v, *recipients = NULL;
	int named = 0, present = 0;

	*ret = NULL;
	for (const struct param_spec *p = specs; p && p->name; p++) {
		named++;
		if (!json_object_object_get_ex(params, p->name, &v))
			continue;
		present++;
		if (p->type == PARAM_RECIPIENTS)
			recipients = v;
	}
	if (named == 0 || !params)
		return 0; /* rows without parameters keep none */
	/* Nothing but what the row reads (the usual case): kept as it is. */
	if (json_object_object_length(params) == present &&
	    (!recipients || recipients_clean(recipients))) {
		*ret = json_object_get(params);
		return 0;
	}
	/* Else only that: whatever else came is freed with the message. */
	keep = json_object_new_object();
	if (!keep)
		return -ENOMEM;
	for (const struct param_spec *p = specs; p->name; p++) {
		json_object *value;

		if (!json_object_object_get_ex(params, p->name, &v))
			continue;
		value = p->type == PARAM_RECIPIENTS && !recipients_clean(v) ? recipients_copy(v)
									    : json_object_get(v);
		if (!value || json_object_object_add(keep, p->name, value) < 0) {
			json_object_put(value);
			json_object_put(keep);
			return -ENOMEM;
		}
	}
	*ret = keep;
	return 0;
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
