/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Where ukeyctl reads PINs: the terminal with echo off; or, when standard
 * input is not a terminal, lines from it (or from --pin-fd N), in the
 * order the prompts would ask. Never argv, never the environment. Every
 * byte read goes through a buffer that is wiped.
 */
#pragma once

#include <stdbool.h>

#include "secret.h"

struct pin_input {
	int fd;
	bool tty;
};

/* fd < 0: standard input. */
void pin_input_open(struct pin_input *in, int fd);

/* Prompts (on a terminal) and reads one PIN. NULL at end of input, on an
 * empty or over-long line, or when the terminal cannot hide it. */
struct ukey_secret *pin_input_read(struct pin_input *in, const char *prompt);

/* A line that is not secret (a typed confirmation), echoed. */
struct ukey_secret *pin_input_read_visible(struct pin_input *in, const char *prompt);
