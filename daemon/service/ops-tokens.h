/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The methods that read the token cache and follow it: list, get,
 * seal_picture, subscribe, refresh. Never a token touched here. */
#pragma once

#include <json-c/json.h>

#include "request.h"

enum request_status op_list(struct request *req, json_object **ret_result);
enum request_status op_get(struct request *req, json_object **ret_result);
enum request_status op_seal_picture(struct request *req, json_object **ret_result);
enum request_status op_subscribe(struct request *req, json_object **ret_result);
/* Answered once the scans the table asked for are in. */
enum request_status op_refresh(struct request *req, json_object **ret_result);
