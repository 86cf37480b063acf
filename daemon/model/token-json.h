/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A token in the JSON contract of docs/protocol.md. */
#pragma once

#include <json-c/json.h>
#include <stdint.h>

struct token;

/* A time as the wire carries it: "2026-12-02T01:54:56Z" (UTC), or NULL
 * (a JSON null) when it cannot be written. */
json_object *token_json_time(int64_t t);

/* The token in the JSON contract shape (docs/protocol.md), with day
 * counts and expiry states as of now. NULL on ENOMEM. */
json_object *token_to_json(const struct token *t, int64_t now);

/* The same, with the seals among private objects (read with the caller's
 * PIN, for one reply) added to seals[] with "private": true. */
json_object *token_to_json_with_private(const struct token *t, const struct token *private_objects,
					int64_t now);
