/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small JSON files in the state directory, replaced atomically. */
#pragma once

#include <json-c/json.h>

/* Writes doc to path through path.tmp: write, fsync, rename. A crash
 * leaves the old file or the new one, never half of one. Mode 0600.
 * Returns 0 or a negative errno. */
int state_file_write(const char *path, json_object *doc);

/* State files are small; a larger one is not ours. */
#define STATE_FILE_MAX_SIZE (16u * 1024u * 1024u)

/* Reads a JSON object. A missing file gives an empty object and 0; a
 * corrupt one (not one JSON object, deeper than 32 levels, larger than
 * STATE_FILE_MAX_SIZE, not readable) an empty object and -EBADMSG. */
int state_file_read(const char *path, json_object **ret_doc);

/* The same for text already read (the fuzz targets use it): 0 with the
 * object, or -EBADMSG with an empty object; -ENOMEM. */
int state_file_parse(const char *text, size_t len, json_object **ret_doc);

/* Moves a state file that cannot be used out of the way, to path.bad (an
 * earlier one is replaced), so that it is neither lost nor read again.
 * Returns 0 or a negative errno. */
int state_file_set_aside(const char *path);
