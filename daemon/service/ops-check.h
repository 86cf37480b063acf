/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* "Ready to bid?": the verdict from the cache (check), and with the
 * caller's PIN the keys used for real first (check_full, a job). */
#pragma once

#include <json-c/json.h>

#include "request.h"

enum request_status op_check(struct request *req, json_object **ret_result);
enum request_status op_check_full(struct request *req, json_object **ret_result);
