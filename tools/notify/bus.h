/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Notices on the desktop: org.freedesktop.Notifications over sd-bus. */
#pragma once

#include <stdint.h>
#include <systemd/sd-bus.h>

#include "agent.h"

struct desktop_bus;

/* Connects to the session bus and takes the agent's well-known name, so a
 * second agent in the same session (started both by systemd and by XDG
 * autostart) sees it is not needed. Returns 0, -EEXIST when another agent
 * has the name, or another negative errno. */
int desktop_bus_open(struct desktop_bus **ret);
void desktop_bus_free(struct desktop_bus *b);
sd_bus *desktop_bus_get(struct desktop_bus *b);

/* Shows a notice (a notice_sink_fn): Notify with replaces_id = *id, then
 * *id is the server's id for it. Returns 0 or a negative errno; the caller
 * logs. */
int desktop_bus_show(void *userdata, const struct notice *n, uint32_t *id);
