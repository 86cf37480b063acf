/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small JSON files in the state directory, replaced atomically. */
#pragma once

#include <json-c/json.h>

/* Writes doc to path through path.tmp: write, fsync, rename. A crash
 * leaves the old file or the new one, never half of one. Mode 0600.
 * Returns 0 or a negative errno. */
int state_file_write(const char *path, json_object *doc);

/* Reads a JSON object. A missing file gives an empty object and 0; a
 * corrupt one an empty object and -EBADMSG. */
int state_file_read(const char *path, json_object **ret_doc);
