/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "ops-audit.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "request-params.h"
#include "service.h"

static void page_read(int r, json_object *entries, bool more, uint64_t next, void *userdata)
{
	struct request *req = userdata;
	json_object *result;
	char message[160];

	if (r < 0 || !(result = json_object_new_object())) {
		json_object_put(entries);
		if (r == -ENOMEM || r >= 0) {
			request_complete(req, REQUEST_E_NO_MEMORY, NULL);
			return;
		}
		/* Never an empty success: the caller learns that it cannot know. */
		snprintf(message, sizeof(message), "the audit log cannot be read (%s)",
			 strerror(-r));
		req->error_message = message;
		req->error_extra = json_object_new_object();
		if (req->error_extra)
			json_object_object_add(req->error_extra, "reason",
					       json_object_new_string(strerror(-r)));
		request_complete(req, REQUEST_E_AUDIT, NULL);
		return;
	}
	json_object_object_add(result, "entries", entries);
	json_object_object_add(result, "more", json_object_new_boolean(more));
	json_object_object_add(result, "next", json_object_new_int64((int64_t)next));
	request_complete(req, REQUEST_DONE, result);
}

/* A page at a time, read on the audit thread: the loop never waits on
 * the file, and a reply stays small however long the log. */
enum request_status op_audit(struct request *req, json_object **ret_result)
{
	int64_t limit = param_int(req->params, "limit", AUDIT_PAGE_MAX);

	if (audit_read_page(req->svc->audit, param_int(req->params, "since", 0),
			    (uint64_t)param_int(req->params, "after", 0), (unsigned)limit,
			    page_read, req) < 0)
		return REQUEST_E_NO_MEMORY;
	request_keep(req);
	return REQUEST_LATER;
}
