/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PIN methods, and get with the caller's PIN: checked here on the
 * loop, then done as jobs on the token's worker (pin-jobs.h). */
#pragma once

#include <json-c/json.h>

#include "request.h"

enum request_status op_pin_change(struct request *req, json_object **ret_result);
enum request_status op_pin_unlock(struct request *req, json_object **ret_result);
enum request_status op_pin_probe_default(struct request *req, json_object **ret_result);
/* get with "pin": the private data objects, for this caller only. */
enum request_status op_get_private(struct request *req, json_object **ret_result);
