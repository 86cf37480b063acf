/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Text from tokens made safe for a screen: a terminal or a notification. */
#pragma once

#include <stdbool.h>

/*
 * notify_escape_controls - @s with everything that could move the cursor,
 * reorder or hide text made visible: C0 controls and DEL as \xNN, C1
 * controls, the bidirectional marks, embeddings, overrides and isolates
 * and the line and paragraph separators as \uNNNN, and bytes that are not
 * UTF-8 as \xNN. A backslash stays as it is. Returns a malloc'ed string,
 * or NULL when out of memory.
 */
char *notify_escape_controls(const char *s);

/*
 * notify_escape_markup - @s with &, < and > as entities, for the body of
 * a notification when the server reads markup ("body-markup"). Returns a
 * malloc'ed string, or NULL when out of memory.
 */
char *notify_escape_markup(const char *s);
