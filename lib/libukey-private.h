/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internals shared by the files of libukey. Not installed. */
#pragma once

#include <json-c/json.h>

#include "ukey/ukey.h"

#define UKEY_EXPORT __attribute__((visibility("default")))

/* Builds a token snapshot from the JSON object ukeyd sent. Takes its own
 * reference on obj. Returns NULL on allocation failure or when obj lacks
 * the fields every token has. */
ukey_token *ukey_token_new_from_json(json_object *obj);

/* Builds a list from the "tokens" array of a list reply. */
enum ukey_error ukey_token_list_new_from_json(json_object *tokens, bool scanning,
					      ukey_token_list **ret_list);

/* libukey-client.c: one request; takes params. The reply's "result" in
 * *ret_result (a reference) on success. */
enum ukey_error ukey_client_call(ukey_client *c, const char *method, json_object *params,
				 json_object **ret_result);
