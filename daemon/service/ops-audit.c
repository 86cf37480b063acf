/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ops-audit.h"

#include "audit.h"
#include "request-params.h"
#include "service.h"

enum request_status op_audit(struct request *req, json_object **ret_result)
{
	json_object *entries = NULL, *result;

	if (audit_read(req->svc->settings.audit_path, param_int(req->params, "since", 0),
		       &entries) < 0 ||
	    !(result = json_object_new_object())) {
		json_object_put(entries);
		return REQUEST_E_NO_MEMORY;
	}
	json_object_object_add(result, "entries", entries);
	*ret_result = result;
	return REQUEST_DONE;
}
