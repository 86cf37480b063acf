/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The audit trail for counter staff: who did what to which token. */
#pragma once

#include <json-c/json.h>

#include "request.h"

enum request_status op_audit(struct request *req, json_object **ret_result);
