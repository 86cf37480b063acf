/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The audit trail of PIN operations and refusals: who (uid, pid, program),
 * when, which token, what, and how it ended. Never a PIN. One JSON object
 * per line, appended to a file in the state dir, and logged.
 */
#pragma once

#include <json-c/json.h>
#include <stdint.h>
#include <sys/socket.h>

/* Appends one entry. Returns 0 or a negative errno (the caller logs). */
int audit_append(const char *path, const struct ucred *peer, const char *program,
		 const char *serial, const char *operation, const char *result);

/* The same; a failure is logged here, where it is handled. */
void audit_record(const char *path, const struct ucred *peer, const char *program,
		  const char *serial, const char *operation, const char *result);

/* The entries at or after since (Unix time), oldest first. */
int audit_read(const char *path, int64_t since, json_object **ret_entries);
