/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Data files in INI form that ship with ukey and that an administrator
 * extends without recompiling: the shipped file, then every *.conf of a
 * directory in name order (ca-profiles, known-tokens).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* inih's handler: returns nonzero on success. */
typedef int (*conf_handler)(void *userdata, const char *section, const char *name,
			    const char *value);

/* The longest line inih reads whole (its buffer, INI_MAX_LINE, less the
 * newline and the terminating NUL). */
#define CONF_MAX_LINE 198

/* Parses an open INI file line by line with handler, as inih's
 * ini_parse_file() does, but counting lines as they are in the file: a
 * line longer than CONF_MAX_LINE is an error on its own line (inih would
 * read it as several, and misnumber every line after it); a comment that
 * long is skipped. Returns 0, or
 * the number of the first bad line, with *ret_too_long set when that
 * line was too long. */
int conf_parse_file(FILE *f, conf_handler handler, void *userdata, bool *ret_too_long);

/* Parses file with shipped_data, then each *.conf in dir with admin_data
 * (file and dir may be NULL; a missing dir is fine). Stops at the first
 * bad file. Returns 0, or a negative errno with "PATH:LINE: invalid WHAT
 * line" or "PATH: reason" in *ret_error (malloc'ed). */
int conf_files_parse(const char *file, const char *dir, conf_handler handler, void *shipped_data,
		     void *admin_data, const char *what, char **ret_error);

/* Appends the items of "a, b ,c" (trimmed, empty ones skipped) to a
 * malloc'ed array. Returns 1, or 0 when out of memory (inih's sense). */
int conf_list_append(char ***list, size_t *n, const char *value);

/* Replaces *field with a copy of value. Returns 1, or 0 when out of memory. */
int conf_set_str(char **field, const char *value);
