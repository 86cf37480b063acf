/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A request as the daemon reads it, before any handler: the line parsed as
 * a message, the method's row found in the request table (variants
 * included), its parameters checked against the row's shape, and every
 * member the shape let through read the way handlers read them. No
 * parameter shape may let a value through that a typed read then trips on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "request-params.h"
#include "request-table.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_object *msg = NULL, *method, *params;
	const struct method *m;
	char why[160];

	if (ukey_msg_parse((const char *)data, size, &msg) < 0)
		return 0;
	if (!json_object_object_get_ex(msg, "method", &method) ||
	    !json_object_is_type(method, json_type_string) ||
	    !json_object_object_get_ex(msg, "params", &params) ||
	    !json_object_is_type(params, json_type_object))
		goto out;
	m = request_table_lookup(json_object_get_string(method), params);
	if (!m || !params_check(m->params, params, why, sizeof(why)))
		goto out;
	for (const struct param_spec *p = m->params; p->name; p++) {
		const char *s = param_string(params, p->name);
		switch (p->type) {
		case PARAM_STRING:
		case PARAM_SERIAL:
		case PARAM_PIN:
			if (json_object_object_get_ex(params, p->name, NULL) && !s)
				abort(); /* the shape let through what a handler cannot read */
			break;
		case PARAM_INT:
			if (param_int(params, p->name, 0) < 0)
				abort();
			break;
		case PARAM_BOOL:
			(void)param_bool(params, p->name);
			break;
		case PARAM_RECIPIENTS: {
			json_object *arr;
			if (json_object_object_get_ex(params, p->name, &arr))
				for (size_t i = 0; i < json_object_array_length(arr); i++)
					(void)param_string(json_object_array_get_idx(arr, i),
							   "skid");
			break;
		}
		}
	}
out:
	json_object_put(msg);
	return 0;
}
