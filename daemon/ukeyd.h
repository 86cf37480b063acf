/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The daemon as a process: main.c parses arguments into a config and
 * hands it to ukeyd_run(), which wires the layers together and runs the
 * event loop. */
#pragma once

struct ukeyd_config;

/* Runs the daemon until SIGTERM or SIGINT. Returns 0 or a negative errno. */
int ukeyd_run(struct ukeyd_config *cfg);
